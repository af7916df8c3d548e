"""A cron schedule (time injected through the clock file) and a file-watch trigger dispatch
their workflows through a real daemon; a webhook trigger fires over the socket."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from _support import Project, running_daemon, wait_until

from animus_protocol.envelope import ConflictError, NotFoundError

_CONFIG = """
schedules:
  - id: every-five
    cron: "*/5 * * * *"
    workflow_ref: standard
    input: {why: cron}
triggers:
  - id: docs-changed
    type: file_watcher
    workflow_ref: standard
    config:
      paths: [watched]
      debounce_secs: 0.1
  - id: on-push
    type: webhook
    workflow_ref: standard
    config:
      max_triggers_per_minute: 2
"""


def _with_status(state: dict[str, object]) -> dict[str, object] | None:
    return state if "last_status" in state else None


def _entries(project: Project, source_prefix: str) -> list[object]:
    page = project.hub.queue.list("all", limit=100)
    return [e for e in page.entries if (e.trigger_source or "").startswith(source_prefix)]


def test_cron_schedule_fires_at_the_injected_time_and_records_state(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write_workflows(_CONFIG)
    clock = tmp_path / "clock.txt"
    clock.write_text("2026-03-01T10:02:00Z")
    env = {"ANIMUS_DAEMON_CLOCK_FILE": str(clock)}
    with running_daemon(project, "--interval-secs", "30", env=env), project.client() as c:
        c.call("daemon/nudge")
        state_path = project.paths.state_dir / "schedule-state.json"
        wait_until(state_path.exists, 30, "schedule state")
        assert json.loads(state_path.read_text())["schedules"]["every-five"]["next_run"].startswith(
            "2026-03-01T10:05:00"
        )
        assert _entries(project, "schedule:") == []  # forward only: nothing for the past
        clock.write_text("2026-03-01T10:05:30Z")
        c.call("daemon/nudge")
        wait_until(lambda: _entries(project, "schedule:every-five"), 30, "a scheduled entry")
        wait_until(
            lambda: project.hub.queue.stats().completed == 1, 60, "the scheduled run to finish"
        )
        state = wait_until(
            lambda: _with_status(json.loads(state_path.read_text())["schedules"]["every-five"]),
            10,
            "the schedule projection",
        )
        assert state["run_count"] == 1
        assert state["last_run"].startswith("2026-03-01T10:05:00")
        assert state["last_status"] == "completed"
        (run,) = project.hub.runs.list(limit=5).runs
        assert project.hub.runs.get(run.id).workflow_ref == "standard"


def test_active_hours_gate_schedules(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write_workflows(
        _CONFIG.replace("schedules:", "daemon:\n  active_hours: 01:00-02:00\nschedules:", 1)
    )
    clock = tmp_path / "clock.txt"
    clock.write_text("2026-03-01T10:02:00Z")
    env = {"ANIMUS_DAEMON_CLOCK_FILE": str(clock)}
    with running_daemon(project, "--interval-secs", "30", env=env), project.client() as c:
        c.call("daemon/nudge")
        state_path = project.paths.state_dir / "schedule-state.json"
        wait_until(state_path.exists, 30, "schedule state")
        clock.write_text("2026-03-01T10:05:30Z")
        c.call("daemon/nudge")
        wait_until(
            lambda: json.loads(state_path.read_text())["schedules"]["every-five"].get(
                "last_skip_reason"
            ),
            10,
            "a skipped fire",
        )
        result = c.call("trigger/fire", {"id": "on-push", "payload": {}})
        assert result == {"routed": False, "reason": "outside active_hours"}
    assert _entries(project, "schedule:") == []


def test_file_watch_trigger_and_webhook_dispatch_their_workflow(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write_workflows(_CONFIG)
    (project.root / "watched").mkdir()
    with running_daemon(project, "--interval-secs", "30"), project.client() as c:
        c.call("daemon/nudge")
        wait_until(lambda: "docs-changed" in _watching(project), 30, "the watcher")

        def touch() -> list[object]:
            # The watcher may need a moment after it announced itself: write until seen.
            (project.root / "watched" / "note.md").write_text("hello")
            return wait_until_quiet(lambda: _entries(project, "trigger:docs-changed"), 1.0)

        entry = wait_until(touch, 20, "trigger entry")[0]
        assert entry.dispatch.input == {"changed_files": ["watched/note.md"]}  # type: ignore[attr-defined]
        fired = c.call("trigger/fire", {"id": "on-push", "payload": {"ref": "main"}})
        assert fired["routed"] is True
        c.call("trigger/fire", {"id": "on-push", "payload": {}})
        with pytest.raises(ConflictError, match="more than 2 times"):
            c.call("trigger/fire", {"id": "on-push", "payload": {}})
        with pytest.raises(NotFoundError):
            c.call("trigger/fire", {"id": "docs-changed"})  # not a webhook
        wait_until(lambda: project.hub.queue.stats().completed >= 3, 60, "trigger runs finished")
        metrics = c.call("daemon/metrics")["counters"]
        assert metrics["trigger_events_total{plugin=on-push,routed=true}"] == 2


def wait_until_quiet(predicate: Callable[[], list[object]], seconds: float) -> list[object]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    return []


def _watching(project: Project) -> str:
    log = project.paths.daemon_log
    return log.read_text() if log.exists() else ""
