"""``animus daemon`` through real processes: a detached daemon, its socket, its streams."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol.testing import wait_until

FAKE_RUNNER = Path(__file__).parents[2] / "animus-daemon-runtime" / "tests" / "fake_runner.py"


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "p"
        self.root.mkdir()
        self.env = {
            **os.environ,
            "ANIMUS_HOME": str(tmp_path / "home"),
            "ANIMUS_WORKFLOW_RUNNER_BIN": f"{sys.executable} {FAKE_RUNNER}",
            "FAKE_RUNNER_PHASE_SECS": "0.05",
        }

    def __call__(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "animus_cli", "--project-root", str(self.root), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=self.env,
        )

    def json(self, *args: str) -> Any:
        proc = self("--json", *args)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["data"]


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    c = Cli(tmp_path)
    assert c("init").returncode == 0
    yield c
    c("daemon", "stop", "--timeout", "5")


def test_daemon_lifecycle_stream_and_controls(cli: Cli) -> None:
    assert cli.json("daemon", "status")["running"] is False
    started = cli.json("daemon", "start")
    assert started["started"] is True
    again = cli("daemon", "start")
    assert again.returncode == 0
    assert f"already running (pid {started['pid']})" in again.stdout
    status = cli.json("daemon", "status")
    assert (status["running"], status["pid"]) == (True, started["pid"])
    config = cli.json("daemon", "config", "--pool-size", "2", "--max-tasks-per-tick", "2")
    assert config["config"]["pool_size"] == 2
    assert sorted(config["changed"]) == ["max_tasks_per_tick", "pool_size"]
    wait_until(lambda: cli.json("daemon", "status")["pool_size"] == 2, 20, "config re-read")
    stream = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "animus_cli",
            "--project-root",
            str(cli.root),
            "--json",
            "daemon",
            "stream",
            "--kind",
            "phase_completed",
            "--max-events",
            "9",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli.env,
    )
    wait_until(  # the stream is subscribed before the work starts
        lambda: cli.json("daemon", "status")["subscribers"]["workflow/event"] == 1, 60, "stream"
    )
    for n in range(3):
        task = cli.json("task", "create", "--title", f"t{n}", "--status", "ready")["id"]
        assert cli("queue", "enqueue", "--task-id", task).returncode == 0
    out, err = stream.communicate(timeout=90)
    assert stream.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert len(events) == 9
    assert {e["kind"] for e in events} == {"phase_completed"}
    assert {e["payload"]["phase_id"] for e in events} == {"phase-1", "phase-2", "phase-3"}
    wait_until(lambda: cli.json("queue", "stats")["completed"] == 3, 60, "three completed")
    health = cli.json("daemon", "health")
    assert health["status"] in ("healthy", "degraded")
    assert cli.json("daemon", "pause")["runtime_paused"] is True
    assert cli.json("daemon", "status")["runtime_paused"] is True
    assert cli.json("daemon", "resume")["runtime_paused"] is False
    metrics = cli.json("daemon", "metrics")
    assert metrics["counters"]["workflow_runs_total{status=completed}"] == 3
    assert cli.json("daemon", "agents") == {"agents": []}
    kinds = [e["kind"] for e in cli.json("daemon", "events", "--tail", "200")["events"]]
    assert "daemon_startup" in kinds
    followed = cli(
        "--json",
        "daemon",
        "events",
        "--follow",
        "--since",
        "1970-01-01T00:00:00Z",
        "--max-events",
        "3",
    )
    assert followed.returncode == 0
    assert len(followed.stdout.splitlines()) == 3
    logs = cli("daemon", "logs", "--tail", "5")
    assert "animus.daemon" in logs.stdout
    followed_logs = cli("--json", "daemon", "logs", "--follow", "--idle-timeout", "0.5")
    assert followed_logs.returncode == 0
    stopped = cli.json("daemon", "stop", "--timeout", "10")
    assert stopped == {"stopped": True, "pid": started["pid"]}
    assert cli.json("daemon", "status")["running"] is False
    assert cli("daemon", "stop").stdout.strip() == "the daemon is not running"


def test_daemon_commands_refuse_bad_input_with_clear_errors(cli: Cli) -> None:
    proc = cli("daemon", "config", "--pool-size", "0")
    assert proc.returncode == 2
    assert "pool-size" in proc.stderr
    proc = cli("--json", "daemon", "pause")
    assert proc.returncode == 5
    error = json.loads(proc.stderr)["error"]
    assert error["code"] == "unavailable"
    assert "animus daemon start" in error["details"]["hint"]
    proc = cli("daemon", "stream")
    assert proc.returncode == 5
    assert "not running" in proc.stderr
    proc = cli("daemon", "trigger-fire", "x", "--payload", "{nope")
    assert proc.returncode == 2
    assert "--payload is not JSON" in proc.stderr
    health = cli.json("daemon", "health")
    assert (health["status"], health["healthy"]) == ("down", False)
    assert cli("daemon", "restart", "--help").returncode == 0


def test_a_stale_pid_file_is_not_a_running_daemon(cli: Cli, tmp_path: Path) -> None:
    cli("status")  # bootstrap the scope
    scope = next(
        p for p in (tmp_path / "home").iterdir() if p.is_dir() and (p / "workflow.db").exists()
    )
    pid_file = scope / "daemon" / "daemon.pid"
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pid_file.write_text(json.dumps({"pid": dead.pid, "start_time": "1"}))
    status = cli.json("daemon", "status")
    assert status["running"] is False
    assert status["stale_pid_file"] is True
    started = cli.json("daemon", "start")  # a stale pid file does not block a start
    assert started["started"] is True


def test_nudge_daemon_wakes_a_running_daemon_and_is_silent_without_one(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from animus_cli.commands._daemon_client import nudge_daemon

    monkeypatch.setenv("ANIMUS_HOME", cli.env["ANIMUS_HOME"])
    assert nudge_daemon(cli.root) is False  # no daemon: nothing happens, nothing raised
    cli.json("daemon", "start", "--interval-secs", "60")
    before = cli.json("daemon", "status")["wakes"]
    assert nudge_daemon(cli.root, "test") is True
    wait_until(lambda: cli.json("daemon", "status")["wakes"] > before, 10, "a wake from the nudge")


def test_start_after_a_killed_daemon_recovers_and_reports_the_new_pid(cli: Cli) -> None:
    import signal

    first = cli.json("daemon", "start")
    os.kill(first["pid"], signal.SIGKILL)  # leaves its pid file and socket file behind
    wait_until(lambda: cli.json("daemon", "status")["running"] is False, 10, "the kill to show")
    assert cli.json("daemon", "status")["stale_pid_file"] is True
    second = cli.json("daemon", "start")
    assert second["started"] is True
    assert second["pid"] != first["pid"]
    status = cli.json("daemon", "status")
    assert (status["running"], status["pid"]) == (True, second["pid"])


def test_daemon_run_once_in_the_foreground(cli: Cli) -> None:
    task = cli.json("task", "create", "--title", "once", "--status", "ready")["id"]
    assert cli("queue", "enqueue", "--task-id", task).returncode == 0
    proc = cli("--json", "daemon", "run", "--once", timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["data"] == {"stopped": True}
    assert cli.json("queue", "stats")["completed"] == 1
    assert cli.json("task", "get", task)["status"] == "done"
    proc = cli("daemon", "run", "--pool-size", "0")
    assert proc.returncode == 2
    assert "pool-size" in proc.stderr
