"""``animus demo`` for real, as the README runs it: a separate process, through the daemon
(start, enqueue over the control socket, live workflow events from the runner processes,
stop), with nothing left running afterwards, also when it is interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

_DEMO_TIMEOUT = 150


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    # A sentinel "real" ANIMUS_HOME: the demo must never write into it.
    env["ANIMUS_HOME"] = str(tmp_path / "real-home")
    env["GIT_CEILING_DIRECTORIES"] = str(tmp_path)
    return env


def _processes_mentioning(paths: list[str]) -> list[str]:
    """Command lines of live processes naming one of ``paths`` (zombies have none)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        if any(p in cmdline for p in paths):
            found.append(f"{entry.name}: {cmdline}")
    return found


def _run_demo(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "animus_cli", "demo", "--json", *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=_DEMO_TIMEOUT,
        check=False,
    )
    envelope = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, envelope, proc.stderr


def test_demo_through_the_daemon_merges_every_task_and_leaves_nothing(tmp_path: Path) -> None:
    code, envelope, err = _run_demo(tmp_path)
    assert code == 0, err
    assert envelope["ok"] is True
    data = envelope["data"]
    assert data["ok"] is True
    assert data["mode"] == "daemon"

    # every task done, each through its own completed run
    assert [t["id"] for t in data["tasks"]] == ["TASK-001", "TASK-002", "TASK-003"]
    assert {t["status"] for t in data["tasks"]} == {"done"}
    assert {t["run_status"] for t in data["tasks"]} == {"completed"}
    assert len({t["workflow_id"] for t in data["tasks"]}) == 3
    assert data["tasks"][1]["depends_on"] == ["TASK-001"]
    # at least one rework round, with its reason, and the phase after it
    reworks = [p for p in data["phases"] if p["verdict"] == "rework"]
    assert reworks
    assert reworks[0]["phase"] == "review"
    assert "negative" in reworks[0]["reason"]
    assert data["reworks"] >= 1
    # N merges on main, one per task, in the order the dependency allows
    assert data["merge_commits_on_main"] == 3
    assert sorted(m["task"] for m in data["merges"]) == ["TASK-001", "TASK-002", "TASK-003"]
    landed = [line.split(" ", 1)[1].split(":")[0] for line in data["main_log"] if ": " in line]
    assert landed.index("TASK-002") < landed.index("TASK-001")  # newest first: 2 after 1

    # the live progress lines came from the daemon's stream, while the runs were going
    assert "daemon started (pid" in err
    assert "↺ rework 1/2: back to implement" in err
    assert err.index("TASK-001  ▶ implement (attempt 1)") < err.index("daemon stopped")
    assert "⇢ merged animus/TASK-003 into main" in err

    # nothing left behind: daemon stopped, runners and providers gone, temp dirs removed
    assert data["daemon"]["stopped"] is True
    assert data["leftover_processes"] == []
    assert _processes_mentioning([data["animus_home"], data["project_root"]]) == []
    assert not Path(data["project_root"]).exists()
    assert not Path(data["animus_home"]).exists()
    assert not (tmp_path / "real-home").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_demo_stops_its_daemon_and_runners(tmp_path: Path, sig: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "animus_cli", "demo", "--json", "--tasks", "5"],
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        # interrupt while runs are under way: after the first phase started
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "▶ implement" in line:
                break
        assert any("▶ implement" in x for x in lines), "".join(lines)
        proc.send_signal(sig)
        _out, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(lines) + rest
    assert proc.returncode != 0
    assert "daemon stopped" in err
    project = next(x.split()[2] for x in lines if x.startswith("demo project"))
    home = next(x.split()[1] for x in lines if x.startswith("ANIMUS_HOME"))
    deadline = time.monotonic() + 10  # a reaped process may take a moment to vanish
    while _processes_mentioning([home, project]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_mentioning([home, project]) == []
    assert not Path(project).exists()
    assert not Path(home).exists()


def test_runs_that_outlast_the_timeout_end_the_demo_with_a_clear_error(tmp_path: Path) -> None:
    code, envelope, err = _run_demo(tmp_path, "--timeout", "1")
    assert code == 5, err
    assert envelope == {}
    error = json.loads(err.strip().splitlines()[-1])["error"]
    assert error["code"] == "unavailable"
    assert "did not finish within 1 s" in error["message"]
    assert "daemon stopped" in err
    project = next(x.split()[2] for x in err.splitlines() if x.startswith("demo project"))
    home = next(x.split()[1] for x in err.splitlines() if x.startswith("ANIMUS_HOME"))
    assert _processes_mentioning([home, project]) == []
    assert not Path(project).exists()
    assert not Path(home).exists()


def test_a_failed_run_through_the_daemon_ends_the_demo_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In process (to break the embedded workflow): the test command always fails, so
    TASK-001 fails and TASK-002 can never run; the demo says so instead of waiting."""
    from animus_cli.app import run
    from animus_cli.commands import _demo_project

    broken = _demo_project.WORKFLOWS_YAML.replace(
        "args: [-m, unittest, -q]", 'args: [-c, "raise SystemExit(1)"]'
    ).replace("on_failure_verdict: rework", "on_failure_verdict: fail")
    assert broken != _demo_project.WORKFLOWS_YAML
    monkeypatch.setattr(_demo_project, "WORKFLOWS_YAML", broken)
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)

    started = time.monotonic()
    code = run(["demo", "--json", "--tasks", "2", "--timeout", "100"])
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()

    assert code == 1, captured.err
    assert captured.out == ""
    error = json.loads(captured.err.strip().splitlines()[-1])["error"]
    assert error["code"] == "demo_failed"
    assert "TASK-001 ended blocked" in error["message"]
    assert "TASK-002 never ran: it waits for TASK-001" in error["message"]
    summary = error["details"]["summary"]
    assert summary["daemon"]["stopped"] is True
    assert summary["leftover_processes"] == []
    assert elapsed < 100  # it did not sit out the timeout
    assert _processes_mentioning([summary["animus_home"], summary["project_root"]]) == []
