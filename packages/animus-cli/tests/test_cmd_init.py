from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from animus_cli.app import run


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def data(self) -> Any:
        env = json.loads(self.out)
        assert env["schema"] == "animus.cli.v1"
        assert env["ok"] is True
        return env["data"]

    @property
    def error(self) -> dict[str, Any]:
        env = json.loads(self.err)
        assert env["ok"] is False
        return env["error"]  # type: ignore[no-any-return]


Invoke = Callable[..., Result]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.setenv("ANIMUS_HOME", str(tmp_path / "home"))
    return root


@pytest.fixture
def animus(project: Path, capsys: pytest.CaptureFixture[str]) -> Invoke:
    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = run(["--project-root", str(project), *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


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
