from __future__ import annotations

from pathlib import Path

from animus_cli.testing import Invoke


def test_demo_json_dispatches_the_chain_in_order(animus: Invoke, tmp_path: Path) -> None:
    r = animus("--json", "demo")
    assert r.code == 0, r.err
    data = r.data
    assert data["ok"] is True
    assert [round_["leased"] for round_ in data["rounds"]] == [
        ["TASK-001"],
        ["TASK-002"],
        ["TASK-003"],
    ]
    assert [t["status"] for t in data["tasks"]] == ["done", "done", "done"]
    assert data["queue"]["completed"] == 3
    assert "Stand-in" in data["stand_in"]
    # nothing is left behind and the real ANIMUS_HOME was not used
    assert not Path(data["project_root"]).exists()
    assert not (tmp_path / "home").exists()


def test_demo_human_keep_and_dir(animus: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "demo-here"
    home = tmp_path / "demo-home"
    r = animus("demo", "--dir", str(target), "--animus-home", str(home), "--keep")
    assert r.code == 0, r.err
    assert "round 1: leased TASK-001" in r.out
    assert "Stand-in" in r.out
    assert "summary" in r.out
    assert "TASK-003" in r.out
    assert f"kept: project {target}" in r.out
    assert (target / ".git").is_dir()
    assert (target / ".animus" / "config.json").is_file()
    assert any(home.iterdir())
    r = animus("--json", "demo", "--dir", str(target))
    assert (r.code, r.error["code"]) == (2, "invalid_input")
