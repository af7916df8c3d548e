"""Issue 6 acceptance through the ``animus`` command, every call a separate process, against a
detached daemon started by ``animus daemon start``:

- a second start (detached or foreground) on the same scope does not start another daemon
  and names the running one;
- ``animus daemon config`` persists ``daemon/pm-config.json`` and the running daemon uses it;
- ``animus trigger fire`` routes a webhook through the daemon to a finished run, is refused
  with the reason outside ``active_hours``, and names an unknown trigger;
- ``animus daemon health`` has per-plugin rows and the degraded reasons;
- ``animus daemon restart`` replaces the process and keeps the persisted config;
- ``animus daemon stop`` drains and leaves no daemon behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol.testing import wait_until

pytestmark = [pytest.mark.timeout(180)]

FAKE_RUNNER = (
    Path(__file__).parents[1] / "packages" / "animus-daemon-runtime" / "tests" / "fake_runner.py"
)

WORKFLOWS = """
daemon:
  active_hours: 09:00-17:00
triggers:
  - id: on-push
    type: webhook
    workflow_ref: standard
    config: { max_triggers_per_minute: 5 }
"""


class Animus:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "project"
        self.root.mkdir()
        self.clock = tmp_path / "clock.txt"
        self.clock.write_text("2026-03-02T10:00:00Z")  # inside 09:00-17:00 UTC
        self.env = {
            **os.environ,
            "ANIMUS_HOME": str(tmp_path / "home"),
            "ANIMUS_WORKFLOW_RUNNER_BIN": f"{sys.executable} {FAKE_RUNNER}",
            "FAKE_RUNNER_PHASE_SECS": "0.05",
            "ANIMUS_DAEMON_CLOCK_FILE": str(self.clock),
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
        assert proc.returncode == 0, (args, proc.stderr)
        return json.loads(proc.stdout)["data"]

    def error(self, *args: str) -> tuple[int, dict[str, Any]]:
        proc = self("--json", *args)
        assert proc.returncode != 0, (args, proc.stdout)
        return proc.returncode, json.loads(proc.stderr)["error"]


@pytest.fixture
def animus(tmp_path: Path) -> Any:
    cli = Animus(tmp_path)
    assert cli("init").returncode == 0
    workflows = cli.root / ".animus" / "workflows.yaml"
    workflows.write_text(workflows.read_text() + WORKFLOWS)
    plugins = cli.root / ".animus" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    broken = plugins / "animus-broken-thing"
    broken.write_text("#!/bin/sh\necho 'not a manifest'\nexit 3\n")
    broken.chmod(0o755)
    yield cli
    cli("daemon", "stop", "--timeout", "5")


def test_the_daemon_through_the_cli_start_config_trigger_health_stop(animus: Animus) -> None:
    started = animus.json("daemon", "start", "--interval-secs", "30")
    assert started["started"] is True
    pid = started["pid"]
    # A second start, detached or foreground, does not start a second daemon.
    again = animus.json("daemon", "start")
    assert (again["started"], again["already_running"], again["pid"]) == (False, True, pid)
    foreground = animus("daemon", "run", timeout=60)
    assert foreground.returncode != 0
    assert f"pid {pid}" in foreground.stderr + foreground.stdout
    assert animus.json("daemon", "status")["pid"] == pid

    # config: persisted in daemon/pm-config.json, used by the running daemon.
    changed = animus.json("daemon", "config", "--pool-size", "3", "--shutdown-timeout-secs", "7")
    pm_config = Path(changed["path"])
    assert pm_config.name == "pm-config.json"
    assert pm_config.parent.name == "daemon"
    on_disk = json.loads(pm_config.read_text())
    assert (on_disk["pool_size"], on_disk["shutdown_timeout_secs"]) == (3, 7)
    wait_until(lambda: animus.json("daemon", "status")["pool_size"] == 3, 30, "the new pool size")
    assert animus.json("daemon", "config")["config"]["pool_size"] == 3  # read back

    # trigger fire: a webhook through the daemon, to a finished run with its payload.
    fired = animus.json("trigger", "fire", "on-push", "--payload", '{"ref": "main"}')
    assert fired["routed"] is True
    entry = fired["entry_id"]
    wait_until(
        lambda: any(
            e["entry_id"] == entry and e["status"] == "completed"
            for e in animus.json("queue", "list", "--status", "all")["entries"]
        ),
        60,
        "the triggered run",
    )
    _code, error = animus.error("trigger", "fire", "no-such-trigger")
    assert error["code"] == "not_found"
    assert "no-such-trigger" in error["message"]
    animus.clock.write_text("2026-03-02T20:00:00Z")  # outside active hours
    gated = animus.json("trigger", "fire", "on-push", "--payload", "{}")
    assert gated == {"routed": False, "reason": "outside active_hours"}

    # health: a row per plugin, and why the daemon is degraded.
    health = animus.json("daemon", "health")
    assert health["status"] == "degraded"
    broken = [r for r in health["plugins"] if "animus-broken-thing" in r["name"]]
    assert broken
    assert broken[0]["status"] == "unhealthy"
    assert any("animus-broken-thing" in reason for reason in health["degraded_reasons"])
    human = animus("daemon", "health")
    assert human.returncode == 0
    assert "animus-broken-thing" in human.stdout
    metrics = animus.json("daemon", "metrics")
    assert metrics["counters"]["trigger_events_total{plugin=on-push,routed=true}"] == 1
    assert metrics["counters"]["trigger_events_total{plugin=on-push,routed=false}"] == 1

    # restart: a new process, the persisted config still in force, runtime state kept.
    restarted = animus.json("daemon", "restart", "--timeout", "10", "--interval-secs", "30")
    assert (restarted["restarted"], restarted["previous_pid"]) == (True, pid)
    assert restarted["pid"] != pid
    status = animus.json("daemon", "status")
    assert (status["running"], status["pid"], status["pool_size"]) == (True, restarted["pid"], 3)

    stopped = animus.json("daemon", "stop", "--timeout", "10")
    assert stopped == {"stopped": True, "pid": restarted["pid"]}
    assert animus.json("daemon", "status")["running"] is False
