"""Crashes: a daemon or a runner killed with SIGKILL; stop with a bounded drain."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

from _support import DaemonProcess, Project, running_daemon, task_statuses, wait_until

from animus_daemon_runtime.runner_process import read_runner_record


def _phase_completions(project: Project, workflow_id: str) -> Counter[str]:
    return Counter(
        str(e.get("phase_id"))
        for e in project.run_events(workflow_id)
        if e["kind"] == "phase_completed"
    )


def test_sigkill_daemon_with_active_runs_then_restart_finishes_each_once(tmp_path: Path) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="0.6")
    ids = project.tasks(6)
    project.enqueue(ids)
    daemon = DaemonProcess(project, "--pool-size", "4", "--max-tasks-per-tick", "4").start()
    try:
        wait_until(lambda: len(project.hub.runs.active()) == 4, 30, "4 active runs")
        daemon.kill()  # SIGKILL: no drain, no cleanup; the runners keep going on their own
        live = [r.id for r in project.hub.runs.active()]
        with running_daemon(project, "--pool-size", "4") as second:
            wait_until(
                lambda: set(task_statuses(project, ids).values()) == {"done"}, 90, "all done"
            )
            wait_until(
                lambda: project.hub.queue.stats().completed == len(ids), 30, "entries completed"
            )
            assert second.proc is not None
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()
    runs = project.hub.runs.list(limit=50).runs
    assert sorted(r.subject_key or "" for r in runs) == sorted(ids)  # none twice, none lost
    assert {r.status for r in runs} == {"completed"}
    for run in runs:
        # Every phase completed exactly once: re-attached runners were followed, not re-run.
        assert _phase_completions(project, run.id) == Counter(
            {"phase-1": 1, "phase-2": 1, "phase-3": 1}
        )
    starts = Counter(wf for what, wf, _ in project.trace_lines() if what == "start")
    assert all(starts[wf] == 1 for wf in live)  # the live runners were never started again
    events = project.paths.events_log.read_text()
    assert '"attached"' in events


def test_sigkill_runner_is_resumed_from_its_last_completed_phase(tmp_path: Path) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="0.5")
    (task,) = project.tasks(1)
    project.enqueue([task])
    with running_daemon(project):
        run = wait_until(project.hub.runs.active, 30, "a run")[0]
        wait_until(
            lambda: _phase_completions(project, run.id)["phase-1"] == 1, 30, "phase-1 completed"
        )
        rec = read_runner_record(project.paths, run.id)
        assert rec is not None
        os.killpg(rec.pid, signal.SIGKILL)
        wait_until(lambda: task_statuses(project, [task]) == {task: "done"}, 60, "resumed run done")
        wait_until(lambda: project.hub.queue.stats().completed == 1, 30, "entry completed")
    final = project.hub.runs.get(run.id)
    assert final.status.value == "completed"
    assert _phase_completions(project, run.id)["phase-1"] == 1  # journal-safe: not redone
    kinds = [e["kind"] for e in project.run_events(run.id)]
    assert "workflow_resumed" in kinds
    log = project.paths.events_log.read_text()
    assert "runner-crashed" in log
    assert "SIGKILL" in log
    assert read_runner_record(project.paths, run.id).attempts == 1  # type: ignore[union-attr]


def test_a_runner_that_keeps_crashing_ends_failed_with_its_output_tail(tmp_path: Path) -> None:
    project = Project(
        tmp_path, ANIMUS_WORKFLOW_RUNNER_BIN="sh -c 'echo boom-on-stderr >&2; kill -9 $$'"
    )
    (task,) = project.tasks(1)
    (entry,) = project.enqueue([task])
    with running_daemon(project):
        wait_until(lambda: project.hub.queue.get(entry).status == "failed", 30, "failed entry")
    task_now = project.hub.tasks.get(task)
    assert task_now.status.value == "blocked"
    assert "SIGKILL" in (task_now.blocked_reason or "")
    assert "boom-on-stderr" in (task_now.blocked_reason or "")


def test_second_daemon_on_the_same_scope_is_refused(project: Project) -> None:
    with running_daemon(project) as first:
        assert first.proc is not None
        second = DaemonProcess(project).start(wait=False)
        assert second.proc is not None
        assert second.proc.wait(30) != 0
        assert f"already running for this project (pid {first.proc.pid})" in second.output()
        with project.client() as c:
            assert c.call("daemon/status")["pid"] == first.proc.pid


def test_stop_drains_runs_to_a_checkpoint_and_the_next_start_resumes_them(tmp_path: Path) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="0.3", FAKE_RUNNER_HANG_PHASE="1")
    ids = project.tasks(2)
    project.enqueue(ids)
    daemon = DaemonProcess(project, "--pool-size", "2").start()
    wait_until(lambda: len(project.hub.runs.active()) == 2, 30, "2 active runs")
    wait_until(
        lambda: all(
            _phase_completions(project, r.id)["phase-1"] == 1 for r in project.hub.runs.active()
        ),
        30,
        "both in phase-2",
    )
    with project.client() as c:
        c.call("daemon/stop", {"timeout_secs": 20})
    assert daemon.proc is not None
    assert daemon.proc.wait(40) == 0
    runs = project.hub.runs.list(limit=10).runs
    assert {r.status for r in runs} == {"paused"}  # checkpointed by SIGTERM, not killed
    assert project.hub.queue.stats().assigned == 2  # their entries wait for the next start
    assert not project.paths.control_sock.exists()
    assert not project.paths.daemon_pid.exists()
    env = {"FAKE_RUNNER_HANG_PHASE": ""}
    with running_daemon(project, "--pool-size", "2", env=env):
        wait_until(lambda: set(task_statuses(project, ids).values()) == {"done"}, 60, "resumed")
    for run in runs:
        assert _phase_completions(project, run.id)["phase-1"] == 1
