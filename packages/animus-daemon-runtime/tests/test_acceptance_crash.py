"""Issue 6 acceptance, crashes and operator control, with a real daemon process, real runner
processes (the contract's fake runner) and real signals:

- SIGKILL the daemon while 4 runs are active, SIGKILL two of their runners while it is down,
  start it again: every run ends completed (``resume_interrupted`` on) or paused with its
  task blocked with the command to run (off); none twice, none lost.
- ``stop`` with a runner that ignores SIGTERM: when the drain timeout passes the runner's
  process group is killed, the daemon exits, and the next start resumes the run.
- ``pause`` holds new dispatch from the very next wake while running work carries on;
  ``resume`` restarts dispatch.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from _support import FAKE_RUNNER, DaemonProcess, Project, running_daemon, task_statuses, wait_until

from animus_daemon_runtime.runner_process import read_runner_record


def _phase_completions(project: Project, workflow_id: str) -> Counter[str]:
    return Counter(
        str(e.get("phase_id"))
        for e in project.run_events(workflow_id)
        if e["kind"] == "phase_completed"
    )


def _starts(project: Project) -> Counter[str]:
    return Counter(wf for what, wf, _ in project.trace_lines() if what == "start")


def _wait_for_wakes(client: Any, target: int) -> None:
    wait_until(lambda: client.call("daemon/status")["wakes"] >= target, 30, f"wake {target}")


def _logged(project: Project) -> list[dict[str, Any]]:
    path = project.paths.events_log
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize("resume_interrupted", [True, False])
def test_sigkill_daemon_and_two_runners_then_restart_none_twice_none_lost(
    tmp_path: Path, resume_interrupted: bool
) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="0.6")
    project.paths.pm_config.parent.mkdir(parents=True, exist_ok=True)
    project.paths.pm_config.write_text(json.dumps({"resume_interrupted": resume_interrupted}))
    ids = project.tasks(6)
    project.enqueue(ids)
    first = DaemonProcess(project, "--pool-size", "4", "--max-tasks-per-tick", "4").start()
    try:

        def four_recorded() -> list[Any]:
            runs = project.hub.runs.active()
            recorded = all(read_runner_record(project.paths, r.id) for r in runs)
            return list(runs) if len(runs) == 4 and recorded else []

        active = wait_until(four_recorded, 30, "4 active runs with runner records")
        first.kill()  # SIGKILL: no drain, no cleanup
        killed = sorted(r.id for r in active)[:2]
        for wf in killed:  # ... and two runners die while no daemon watches them
            rec = read_runner_record(project.paths, wf)
            assert rec is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(rec.pid, signal.SIGKILL)
        wait_until(
            lambda: not any(read_runner_record(project.paths, wf).alive() for wf in killed),  # type: ignore[union-attr]
            10,
            "the killed runners to be gone",
        )
        survivors = sorted(r.id for r in active if r.id not in killed)
        with running_daemon(project, "--pool-size", "4"):

            def settled() -> bool:
                statuses = task_statuses(project, ids)
                stats = project.hub.queue.stats()
                if resume_interrupted:
                    return set(statuses.values()) == {"done"} and stats.completed == len(ids)
                return (
                    sorted(statuses.values()) == ["blocked"] * 2 + ["done"] * 4
                    and stats.completed == 4
                )

            wait_until(settled, 60, "every run to end")
    finally:
        if first.proc is not None and first.proc.poll() is None:
            first.kill()
    listed = project.hub.runs.list(limit=50).runs
    assert sorted(r.subject_key or "" for r in listed) == sorted(ids)  # none lost, none twice
    runs = {r.id: project.hub.runs.get(r.id) for r in listed}
    starts = _starts(project)
    for wf in survivors:
        assert starts[wf] == 1  # re-attached and followed, never started again
        assert runs[wf].status.value == "completed"
    for wf, run in runs.items():
        # No phase completed twice anywhere (a killed phase re-runs; a completed one never).
        assert max(_phase_completions(project, wf).values(), default=0) <= 1, wf
        if wf not in killed:
            assert _phase_completions(project, wf) == Counter(
                {"phase-1": 1, "phase-2": 1, "phase-3": 1}
            )
            assert run.status.value == "completed"
    logged = json.dumps(_logged(project))
    assert '"attached"' in logged
    for wf in killed:
        run = runs[wf]
        if resume_interrupted:
            assert starts[wf] == 2  # the original start and one resume
            assert run.status.value == "completed"
            assert "workflow_resumed" in [e["kind"] for e in project.run_events(wf)]
        else:
            assert starts[wf] == 1  # not restarted: it waits for an operator
            assert run.status.value == "paused"
            task = project.hub.tasks.get(run.task_id)
            assert task.status.value == "blocked"
            assert f"animus workflow resume {wf}" in (task.blocked_reason or "")  # actionable


_IGNORES_SIGTERM = """
import runpy, signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
_install = signal.signal
# The fake runner installs a checkpointing SIGTERM handler; this runner refuses to.
signal.signal = lambda sig, handler: None if sig == signal.SIGTERM else _install(sig, handler)
sys.argv = [sys.argv[0], *sys.argv[1:]]
runpy.run_path({fake!r}, run_name="__main__")
"""


def test_stop_kills_a_runner_that_ignores_sigterm_when_the_timeout_passes(tmp_path: Path) -> None:
    stubborn = tmp_path / "stubborn_runner.py"
    stubborn.write_text(_IGNORES_SIGTERM.format(fake=str(FAKE_RUNNER)))
    project = Project(
        tmp_path,
        ANIMUS_WORKFLOW_RUNNER_BIN=f"{sys.executable} {stubborn}",
        FAKE_RUNNER_PHASE_SECS="0.2",
        FAKE_RUNNER_HANG_PHASE="1",
    )
    (task,) = project.tasks(1)
    (entry,) = project.enqueue([task])
    daemon = DaemonProcess(project).start()
    try:
        run = wait_until(project.hub.runs.active, 30, "a run")[0]
        wait_until(lambda: _phase_completions(project, run.id)["phase-1"] == 1, 30, "phase-2")
        rec = read_runner_record(project.paths, run.id)
        assert rec is not None
        assert rec.alive()
        with project.client() as c:
            c.call("daemon/stop", {"timeout_secs": 1})
        assert daemon.proc is not None
        assert daemon.proc.wait(30) == 0  # bounded: 1 s drain, then the kill
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()
    assert not rec.alive()  # killed, not left behind
    shutdown = [e for e in _logged(project) if e["event_type"] == "graceful-shutdown"]
    assert any(
        e["data"].get("timed_out") is True and e["data"].get("killed") == [run.id] for e in shutdown
    )
    assert project.hub.runs.get(run.id).status.value == "running"  # interrupted, not settled
    assert project.hub.queue.get(entry).status == "assigned"  # its entry waits for the next start
    # The next start (with a well-behaved runner) resumes it: phase-1 is not repeated.
    env = {"ANIMUS_WORKFLOW_RUNNER_BIN": f"{sys.executable} {FAKE_RUNNER}"}
    env["FAKE_RUNNER_HANG_PHASE"] = ""
    with running_daemon(project, env=env):
        wait_until(lambda: task_statuses(project, [task]) == {task: "done"}, 30, "resumed")
        wait_until(lambda: project.hub.queue.get(entry).status == "completed", 30, "entry done")
    assert _phase_completions(project, run.id) == Counter(
        {"phase-1": 1, "phase-2": 1, "phase-3": 1}
    )


def test_pause_holds_dispatch_from_the_next_wake_while_running_work_finishes(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="0.3")
    ids = project.tasks(4)
    with (
        running_daemon(project, "--pool-size", "2", "--interval-secs", "30"),
        project.client() as c,
    ):
        for task_id in ids:
            c.call("queue/enqueue", {"task_id": task_id})

        def two_running() -> list[str]:
            active: list[str] = c.call("daemon/status")["active_runs"]
            return active if len(active) == 2 else []

        first_two = wait_until(two_running, 30, "2 running")
        assert c.call("daemon/pause")["runtime_paused"] is True
        # The running work is not touched by the pause: both runs finish...
        wait_until(
            lambda: (
                c.call("queue/stats")["done_recent"] == 2
                and not c.call("daemon/status")["active_runs"]
            ),
            30,
            "the running runs to complete",
        )
        assert {project.hub.runs.get(wf).status.value for wf in first_two} == {"completed"}
        # ... and no wake after that (completions, nudges; free slots, work waiting) starts
        # anything. Ticks run one after another, so once the count has moved twice past
        # this point, at least one whole wake ran with dispatch paused.
        wakes = c.call("daemon/status")["wakes"]
        for target in (wakes + 1, wakes + 2):
            c.call("daemon/nudge", {"reason": "probe"})
            _wait_for_wakes(c, target)
        assert sorted(_starts(project)) == sorted(first_two)
        assert c.call("queue/stats")["ready"] == 2
        assert c.call("daemon/resume")["runtime_paused"] is False
        wait_until(lambda: set(task_statuses(project, ids).values()) == {"done"}, 60, "resumed")
    assert len(_starts(project)) == 4
    assert project.max_concurrency() <= 2
