from __future__ import annotations

from pathlib import Path

from animus_cli.app import run
from animus_cli.testing import Invoke


def test_init_creates_then_is_idempotent(animus: Invoke, project: Path) -> None:
    r = animus("--json", "init")
    assert r.code == 0
    created = r.data["created"]
    assert str(project / ".animus" / "config.json") in created
    assert str(project / ".animus" / "workflows.yaml") in created
    assert r.data["workflow_db"] in created
    assert Path(r.data["workflow_db"]).is_file()
    assert r.data["changed"] is True
    r = animus("--json", "init")
    assert r.data["created"] == []
    assert r.data["changed"] is False
    assert animus("init").out.count("already initialized") == 1


def test_init_human_output_and_bad_root(animus: Invoke, project: Path, tmp_path: Path) -> None:
    r = animus("init")
    assert "created" in r.out
    assert ".animus" in r.out
    code = run(["--json", "--project-root", str(tmp_path / "missing"), "init"])
    assert code == 2
