"""Issue 6 build item 4, recovery at start, each case set up on disk (real ``workflow.db``,
real runner records, real processes) before a real daemon process starts:

- runs whose runner finished while no daemon was up: their queue entries are completed and
  nothing runs again;
- an in-progress task with no run and no entry heals to ready; an entry leased to a runner
  that never started goes back to the queue and is dispatched;
- a run without a runner record started less than 90 s ago waits out its grace period (it
  is not resumed, and holds its slot), while one whose grace has run out is resumed;
- with nothing else waking it, the daemon wakes for the next cron deadline on its own.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from _support import DaemonProcess, Project, running_daemon, task_statuses, wait_until

from animus_daemon_runtime.recovery import LAUNCH_GRACE
from animus_protocol.statuses import WorkflowStatus
from animus_protocol.subjects import SubjectRef
from animus_protocol.timeutil import format_rfc3339, utc_now
from animus_protocol.workflow import WorkflowPhaseExecution, WorkflowRun


def _starts(project: Project) -> Counter[str]:
    return Counter(wf for what, wf, _ in project.trace_lines() if what == "start")


def _active(project: Project, n: int) -> list[Any]:
    runs = list(project.hub.runs.active())
    return runs if len(runs) == n else []


def _recovery_report(project: Project) -> dict[str, list[str]]:
    """The first ``recovery`` summary the last daemon start logged."""
    records = [json.loads(x) for x in project.paths.events_log.read_text().splitlines()]
    startups = [i for i, r in enumerate(records) if r["event_type"] == "daemon_startup"]
    for record in records[startups[-1] :]:
        if record["event_type"] == "recovery" and "action" not in record["data"]:
            data: dict[str, list[str]] = record["data"]
            return data
    raise AssertionError("no recovery summary after the last start")


def test_runs_that_finished_while_the_daemon_was_down_complete_their_entries(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="0.3")
    ids = project.tasks(2)
    entries = project.enqueue(ids)
    daemon = DaemonProcess(project, "--pool-size", "2").start()
    try:
        runs = wait_until(lambda: _active(project, 2), 30, "2 runs")
        daemon.kill()
        # The runners carry on alone and finish while no daemon is up.
        wait_until(lambda: set(task_statuses(project, ids).values()) == {"done"}, 30, "done")
        assert [project.hub.queue.get(e).status for e in entries] == ["assigned"] * 2
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()
    with running_daemon(project, "--interval-secs", "30"):
        wait_until(
            lambda: [project.hub.queue.get(e).status for e in entries] == ["completed"] * 2,
            30,
            "the entries completed by recovery",
        )
    report = _recovery_report(project)
    assert sorted(report["completed_entries"]) == sorted(entries)
    assert _starts(project) == Counter({r.id: 1 for r in runs})  # nothing ran again


def test_a_stale_in_progress_task_heals_and_a_never_started_lease_is_dispatched(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path)
    stale, leased = project.tasks(2)
    project.hub.tasks.set_status(stale, "in-progress", force=True)  # no run, no entry
    (entry_id,) = project.enqueue([leased])
    (lease,) = project.hub.queue.lease(1, workflow_ids=["wf-never-started"])
    assert (lease.entry_id, lease.status) == (entry_id, "assigned")  # and then nothing ran
    # Leased a minute ago: past the launch grace a fresh lease gets (its runner may be
    # starting), so it goes straight back to the queue.
    with project.hub.db.transaction() as conn:
        conn.execute(
            "UPDATE queue_entries SET assigned_at = ? WHERE entry_id = ?",
            (format_rfc3339(utc_now() - timedelta(seconds=60)), entry_id),
        )
    with running_daemon(project, "--interval-secs", "30"):
        wait_until(lambda: project.hub.queue.get(entry_id).status == "completed", 30, "dispatch")
    report = _recovery_report(project)
    assert report["healed_tasks"] == [stale]
    assert report["released"] == [entry_id]
    assert task_statuses(project, [stale, leased]) == {stale: "ready", leased: "done"}
    assert "wf-never-started" not in _starts(project)


def test_a_fresh_lease_without_a_run_waits_out_the_launch_grace(tmp_path: Path) -> None:
    """An entry leased moments before the daemon died, whose runner has not recorded a run
    yet, is not dispatched again at once (that runner may be starting): it holds its slot
    for the launch grace and is dispatched when no run has appeared by then."""
    project = Project(tmp_path)
    (task,) = project.tasks(1)
    (entry_id,) = project.enqueue([task])
    project.hub.queue.lease(1, workflow_ids=["wf-launching"])
    left = LAUNCH_GRACE.total_seconds() - 3
    with project.hub.db.transaction() as conn:
        conn.execute(
            "UPDATE queue_entries SET assigned_at = ? WHERE entry_id = ?",
            (format_rfc3339(utc_now() - timedelta(seconds=left)), entry_id),
        )
    with running_daemon(project, "--interval-secs", "30"), project.client() as c:
        report = _recovery_report(project)
        assert report["grace"] == ["wf-launching"]
        assert project.hub.queue.get(entry_id).status == "assigned"
        assert c.call("daemon/status")["active_runs"] == []
        wait_until(lambda: project.hub.queue.get(entry_id).status == "completed", 30, "dispatch")
    assert "wf-launching" not in _starts(project)
    assert sum(_starts(project).values()) == 1


def _orphan_run(project: Project, task_id: str, workflow_id: str, age: timedelta) -> None:
    """A run recorded as running by a runner that left no record behind."""
    project.hub.runs.save(
        WorkflowRun(
            id=workflow_id,
            task_id=task_id,
            workflow_ref="standard",
            subject=SubjectRef(kind="animus.task", id=task_id),
            status=WorkflowStatus.RUNNING,
            phases=[WorkflowPhaseExecution(phase_id=f"phase-{i}") for i in (1, 2, 3)],
            started_at=utc_now() - age,
        )
    )
    project.hub.tasks.set_status(task_id, "in-progress", force=True)


def test_recent_orphans_wait_out_their_grace_and_old_ones_are_resumed(tmp_path: Path) -> None:
    project = Project(tmp_path)
    old, young, *others = project.tasks(4)
    _orphan_run(project, old, "wf-old-orphan", timedelta(seconds=88))
    _orphan_run(project, young, "wf-young-orphan", timedelta(seconds=0))
    with (
        running_daemon(project, "--pool-size", "2", "--interval-secs", "30"),
        project.client() as c,
    ):
        report = _recovery_report(project)
        assert sorted(report["grace"]) == ["wf-old-orphan", "wf-young-orphan"]
        # The old one's grace runs out within seconds: it is resumed and finishes.
        wait_until(
            lambda: project.hub.runs.get("wf-old-orphan").status.value == "completed",
            30,
            "the old orphan resumed",
        )
        # The young one is still in its grace: not resumed, and it holds a slot, so with
        # pool 2 two new entries run one at a time.
        for task_id in others:
            c.call("queue/enqueue", {"task_id": task_id})
        wait_until(
            lambda: set(task_statuses(project, others).values()) == {"done"}, 30, "others done"
        )
        assert project.hub.runs.get("wf-young-orphan").status.value == "running"
        assert "wf-young-orphan" not in _starts(project)
        assert c.call("daemon/status")["pool_size"] == 2
    current = peak = 0
    for what, wf, _ts in sorted(project.trace_lines(), key=lambda x: x[2]):
        if wf != "wf-old-orphan":
            current += 1 if what == "start" else -1
            peak = max(peak, current)
    assert peak == 1
    assert task_statuses(project, [old]) == {old: "done"}
    assert _starts(project)["wf-old-orphan"] == 1  # resumed once, by the daemon
    assert "workflow_resumed" in [e["kind"] for e in project.run_events("wf-old-orphan")]


_SCHEDULE = """
schedules:
  - id: every-five
    cron: "*/5 * * * *"
    workflow_ref: standard
"""


def test_the_daemon_wakes_for_the_next_cron_deadline_without_a_nudge(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write_workflows(_SCHEDULE)
    clock = tmp_path / "clock.txt"
    clock.write_text("2026-03-01T10:04:59Z")
    env = {"ANIMUS_DAEMON_CLOCK_FILE": str(clock)}
    # A one-hour heartbeat: any wake within the wait below is a deadline wake.
    with running_daemon(project, "--interval-secs", "3600", env=env):
        state_path = project.paths.state_dir / "schedule-state.json"
        wait_until(state_path.exists, 30, "the schedule state")
        clock.write_text("2026-03-01T10:05:00Z")  # the deadline passes; no nudge is sent
        wait_until(lambda: project.hub.queue.stats().completed == 1, 30, "the scheduled run")
    state = json.loads(state_path.read_text())["schedules"]["every-five"]
    assert state["last_run"].startswith("2026-03-01T10:05:00")
