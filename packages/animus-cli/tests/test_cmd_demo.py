"""``animus demo`` in this process (``--no-daemon``): a real workflow with the scripted
provider in a throwaway git repository; the daemon path is in tests-integration/test_demo.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from animus_cli.commands import _demo_live, _demo_project
from animus_cli.commands._demo_project import DEMO_MARKER, REWORK_REASON
from animus_cli.testing import Invoke

pytestmark = pytest.mark.timeout(120)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True, timeout=30
    ).stdout


def test_one_task_in_process_reworks_once_and_merges(animus: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "demo"
    home = tmp_path / "demo-home"
    args = ["--no-daemon", "--tasks", "1", "--dir", str(target), "--animus-home", str(home)]
    data = animus("demo", *args, "--keep", json_output=True).data

    assert data["ok"] is True
    assert data["mode"] == "in-process"
    [task] = data["tasks"]
    assert (task["id"], task["status"], task["run_status"], task["reworks"]) == (
        "TASK-001",
        "done",
        "completed",
        1,
    )
    verdicts = [(p["phase"], p["attempt"], p["verdict"]) for p in data["phases"]]
    assert verdicts == [
        ("implement", 1, "advance"),
        ("test", 1, "advance"),
        ("review", 1, "rework"),
        ("implement", 2, "advance"),
        ("test", 2, "advance"),
        ("review", 2, "advance"),
    ]
    assert data["phases"][2]["reason"] == REWORK_REASON
    assert data["reworks"] == 1
    [merge] = data["merges"]
    assert (merge["task"], merge["branch"], merge["into"], merge["status"]) == (
        "TASK-001",
        "animus/TASK-001",
        "main",
        "merged",
    )
    assert data["merge_commits_on_main"] == 1
    assert data["leftover_processes"] == []

    # What the scripted agent wrote is on main, the rework's edit included, and it passes.
    assert git(target, "rev-parse", "main").strip().startswith(merge["commit"][:7])
    assert data["main_log"][0].startswith(merge["commit"][:7])
    basic = git(target, "show", "main:calc/basic.py")
    assert "def subtract(" in basic
    assert "def multiply(" in basic
    assert "test_multiply_negative" in git(target, "show", "main:tests/test_arith.py")
    assert git(target, "status", "--porcelain").strip() == ""
    tests = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"],
        check=False,
        cwd=target,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tests.returncode == 0, tests.stderr
    assert "Ran 4 tests" in tests.stderr
    # The real ANIMUS_HOME of the session (the fixture's) was never used.
    assert not (tmp_path / "home").exists()
    assert any(home.iterdir())

    # An earlier demo's directory may be reused: it is replaced by a new demo.
    again = animus("demo", *args, json_output=True).data
    assert again["ok"] is True
    assert not target.exists()
    assert not home.exists()


def test_two_tasks_human_output_dependency_order_and_nothing_left(
    animus: Invoke, tmp_path: Path
) -> None:
    r = animus("demo", "--no-daemon", "--tasks", "2")
    assert r.code == 0, r.err
    out = r.out
    assert "TASK-002 waits for TASK-001" in out
    assert "↺ rework 1/2: back to implement" in out
    assert "⇢ merged animus/TASK-001 into main" in out
    assert "⇢ merged animus/TASK-002 into main" in out
    # the dependent task runs only once the first one has landed
    assert out.index("TASK-002  run ") > out.index("⇢ merged animus/TASK-001")
    assert "phases and verdicts" in out
    assert "main (git log --oneline main):" in out
    assert "TASK-002: Add divide to calc.basic" in out
    assert (
        out.rstrip()
        .splitlines()[-1]
        .startswith("ok: 2 tasks done, 1 rework round, 2 merges into main")
    )
    project = Path(out.split("demo project", 1)[1].split()[0])
    assert project.name == "calc"
    assert not project.parent.exists()  # the temporary project and home are gone


def test_a_run_that_cannot_finish_fails_the_demo_with_the_reason(
    animus: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = _demo_project.WORKFLOWS_YAML.replace(
        "args: [-m, unittest, -q]", 'args: [-c, "raise SystemExit(1)"]'
    ).replace("on_failure_verdict: rework", "on_failure_verdict: fail")
    assert broken != _demo_project.WORKFLOWS_YAML
    monkeypatch.setattr(_demo_project, "WORKFLOWS_YAML", broken)
    r = animus("demo", "--no-daemon", "--tasks", "2", json_output=True)
    assert r.code == 1
    # live lines go to stderr in JSON mode; the error envelope is the last line
    envelope = json.loads(r.err.strip().splitlines()[-1])
    assert envelope["ok"] is False
    error = envelope["error"]
    assert error["exit_code"] == 1
    assert error["code"] == "demo_failed"
    assert "TASK-001 ended blocked" in error["message"]
    assert "TASK-002 never ran: it waits for TASK-001" in error["message"]
    summary = error["details"]["summary"]
    assert summary["ok"] is False
    assert [t["status"] for t in summary["tasks"]] == ["blocked", "ready"]
    assert summary["tasks"][1]["depends_on"] == ["TASK-001"]
    assert summary["merges"] == []
    assert [(p["phase"], p["verdict"]) for p in summary["phases"]] == [
        ("implement", "advance"),
        ("test", "fail"),
    ]
    assert r.out == ""


def test_bad_input(animus: Invoke, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine\n")
    r = animus("demo", "--dir", str(busy), json_output=True)
    assert (r.code, r.error["code"]) == (2, "invalid_input")
    assert "not empty" in r.error["message"]
    assert DEMO_MARKER in r.error["message"]
    assert (busy / "notes.txt").read_text() == "mine\n"  # untouched

    a_file = tmp_path / "file"
    a_file.write_text("x")
    r = animus("demo", "--dir", str(a_file), json_output=True)
    assert (r.code, r.error["code"]) == (2, "invalid_input")
    assert "is a file" in r.error["message"]

    for count in ("0", "99", "three"):
        r = animus("demo", "--tasks", count, json_output=True)
        assert (r.code, r.error["code"]) == (2, "invalid_input"), count
        assert "--tasks" in r.error["message"]

    r = animus("demo", "--timeout", "0", json_output=True)
    assert (r.code, r.error["code"]) == (2, "invalid_input")


def test_live_lines_name_the_task_and_skip_chatter() -> None:
    lines: list[str] = []
    live = _demo_live.Live(lines.append, 0.0)
    live(
        {
            "workflow_id": "wf-1",
            "kind": "workflow_started",
            "payload": {"task_id": "TASK-009", "phases": ["a", "b"]},
        }
    )
    live(
        {"workflow_id": "wf-1", "kind": "phase_event", "phase_id": "a", "payload": {"type": "text"}}
    )
    # the daemon's stream carries the phase inside the payload
    live(
        {
            "workflow_id": "wf-1",
            "kind": "rework",
            "payload": {
                "phase_id": "b",
                "count": 1,
                "max_attempts": 2,
                "target": "a",
                "reason": "why",
            },
        }
    )
    assert len(lines) == 2
    assert "TASK-009" in lines[0]
    assert "run wf-1 started: a → b" in lines[0]
    assert lines[1].endswith("↺ rework 1/2: back to a — why")
