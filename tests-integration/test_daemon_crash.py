"""Crash tests with the real runner: SIGKILL the daemon while 4 runs are active and start it
again; SIGKILL a runner; a side-effecting phase interrupted is blocked with a reason."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from animus_daemon_runtime.runner_process import read_runner_record
from animus_plugin_protocol.testing import children_of, wait_until
from animus_workflow_runner.testing import (
    WorkflowProject,
    make_workflow_project,
    three_phase_workflows,
)

# --import-mode=importlib leaves this directory off sys.path; the daemon helper is a sibling.
sys.path.insert(0, str(Path(__file__).parent))
from test_daemon_real_runner import Daemon

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

ADVANCE = {"decision": {"verdict": "advance", "reason": "ok", "confidence": 0.9, "risk": "low"}}


def _project(
    tmp_path: Path, idempotency: str = "idempotent", sleep: float = 2.0
) -> WorkflowProject:
    project = make_workflow_project(tmp_path, three_phase_workflows(idempotency))
    project.script("build", {"match": {"phase": "build"}, "steps": [{"sleep": sleep}, ADVANCE]})
    return project


def _events(project: WorkflowProject, workflow_id: str) -> list[dict[str, Any]]:
    with project.hub() as hub:
        path = hub.paths.run_dir(workflow_id) / "workflow-events.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def _active(project: WorkflowProject) -> list[Any]:
    with project.hub() as hub:
        return list(hub.runs.active())


def _in_build(project: WorkflowProject, run_id: str) -> bool:
    """The build phase's agent session has started (its step is under way). Not just
    ``phase_started``: a runner killed between that event and the step's start has begun
    no side effect, and is rightly resumed even for a side-effecting phase."""
    return any(
        e["kind"] == "phase_event"
        and e.get("phase_id") == "build"
        and (e.get("payload") or {}).get("type") == "started"
        for e in _events(project, run_id)
    )


def test_sigkill_daemon_with_four_active_runs_then_restart(tmp_path: Path) -> None:
    project = _project(tmp_path)
    ids = [project.create_task(f"t{n}") for n in range(6)]
    with project.hub() as hub:
        for t in ids:
            hub.queue.enqueue_subject("task", t)
    first = Daemon(project, "--pool-size", "4", "--max-tasks-per-tick", "4")
    try:
        wait_until(lambda: len(_active(project)) == 4, 120, "4 active runs")
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait(10)
        second = Daemon(project, "--pool-size", "4")
        try:

            def finished() -> bool:
                with project.hub() as hub:
                    return hub.queue.stats().completed + hub.queue.stats().failed == len(ids)

            wait_until(finished, 180, "every entry finished")
        finally:
            second.stop()
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
    with project.hub() as hub:
        runs = hub.runs.list(limit=50).runs
        statuses = {t: hub.tasks.get(t).status.value for t in ids}
    assert sorted(r.subject_key or "" for r in runs) == sorted(ids)  # none twice, none lost
    assert {r.status for r in runs} == {"completed"}, [
        (r.id, r.status, r.failure_reason) for r in runs if r.status != "completed"
    ]
    assert set(statuses.values()) == {"done"}
    for run in runs:
        completed = Counter(
            e.get("phase_id") for e in _events(project, run.id) if e["kind"] == "phase_completed"
        )
        assert completed == Counter({"plan": 1, "build": 1, "review": 1}), run.id


def test_sigkill_runner_idempotent_phase_is_resumed(tmp_path: Path) -> None:
    project = _project(tmp_path, "idempotent", sleep=3.0)
    task = project.create_task("one")
    with project.hub() as hub:
        hub.queue.enqueue_subject("task", task)
    daemon = Daemon(project)
    try:
        run = wait_until(lambda: _active(project), 60, "a run")[0]
        wait_until(lambda: _in_build(project, run.id), 60, "build started")
        with project.hub() as hub:
            rec = read_runner_record(hub.paths, run.id)
        assert rec is not None
        os.killpg(rec.pid, signal.SIGKILL)

        def ended() -> str | None:
            with project.hub() as hub:
                status = hub.runs.get(run.id).status.value
            return status if status in ("completed", "failed", "paused", "escalated") else None

        status = wait_until(ended, 120, "the run to end")
    finally:
        daemon.stop()
    assert status == "completed"
    completed = Counter(
        e.get("phase_id") for e in _events(project, run.id) if e["kind"] == "phase_completed"
    )
    assert completed["plan"] == 1  # finished before the kill: not run again


def test_sigkill_runner_side_effecting_phase_is_blocked_with_a_reason(tmp_path: Path) -> None:
    project = _project(tmp_path, "sideeffecting", sleep=3.0)
    task = project.create_task("one")
    with project.hub() as hub:
        hub.queue.enqueue_subject("task", task)
    daemon = Daemon(project)
    try:
        run = wait_until(lambda: _active(project), 60, "a run")[0]
        wait_until(lambda: _in_build(project, run.id), 60, "build started")
        with project.hub() as hub:
            rec = read_runner_record(hub.paths, run.id)
        assert rec is not None
        os.killpg(rec.pid, signal.SIGKILL)

        def settled() -> Any:
            with project.hub() as hub:
                run_now = hub.runs.get(run.id)
                task_now = hub.tasks.get(task)
            if run_now.status.value != "running" and task_now.status.value == "blocked":
                return run_now, task_now
            return None

        run_now, task_now = wait_until(settled, 120, "the run to settle")
    finally:
        daemon.stop()
    assert run_now.status.value == "paused"  # waits for an operator, nothing repeated
    assert "sideeffecting" in (task_now.blocked_reason or "")
    assert f"animus workflow resume {run.id} --force" in (task_now.blocked_reason or "")


def _metrics(daemon: Daemon) -> dict[str, Any]:
    with daemon.client() as c:
        gauges: dict[str, Any] = c.call("daemon/metrics")["gauges"]
    return gauges


def test_runners_are_forked_and_outlive_a_killed_forkserver(tmp_path: Path) -> None:
    """Runners come from the forkserver by default; SIGKILL it while two runs are in their
    build phase: both still complete (followed by pid, outcome read from the run), and the
    next dispatch starts a new forkserver."""
    project = _project(tmp_path, "idempotent", sleep=3.0)
    first = [project.create_task(f"t{n}") for n in range(2)]
    with project.hub() as hub:
        for task in first:
            hub.queue.enqueue_subject("task", task)
    daemon = Daemon(project, "--pool-size", "2")
    try:
        runs = wait_until(lambda: len(_active(project)) == 2 and _active(project), 60, "two runs")
        for run in runs:
            wait_until(lambda run=run: _in_build(project, run.id), 60, "build started")
        with project.hub() as hub:
            records = [read_runner_record(hub.paths, run.id) for run in runs]
        assert all(r is not None and r.launch == "fork" for r in records)
        forkserver = _metrics(daemon)
        assert forkserver["forkserver_up"] == 1
        assert forkserver["runner_forks"] == 2
        # Find the forkserver: the runners' parent.
        parents = {
            int(Path(f"/proc/{r.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            for r in records
            if r is not None
        }
        (server_pid,) = parents
        os.kill(server_pid, signal.SIGKILL)

        def finished(ids: list[str]) -> bool:
            with project.hub() as hub:
                return all(hub.runs.get(i).status.value == "completed" for i in ids)

        wait_until(lambda: finished([run.id for run in runs]), 120, "the orphaned runs to finish")
        later = project.create_task("after the kill")
        with project.hub() as hub:
            hub.queue.enqueue_subject("task", later)
        wait_until(
            lambda: any(r.subject_key == later for r in _active(project)) or _done(project, later),
            60,
            "the next dispatch",
        )
        wait_until(lambda: _done(project, later), 120, "the next run to finish")
        gauges = _metrics(daemon)
    finally:
        daemon.stop()
    assert gauges["forkserver_starts"] == 2
    assert gauges["runner_fork_fallbacks"] == 0
    with project.hub() as hub:
        assert {hub.tasks.get(t).status.value for t in [*first, later]} == {"done"}
        runs_by_subject = Counter(r.subject_key for r in hub.runs.list(limit=20).runs)
    assert runs_by_subject == Counter({first[0]: 1, first[1]: 1, later: 1})


def _done(project: WorkflowProject, task_id: str) -> bool:
    with project.hub() as hub:
        return bool(hub.tasks.get(task_id).status.value == "done")


def test_runner_launch_spawn_starts_a_fresh_process(tmp_path: Path) -> None:
    project = _project(tmp_path, "idempotent", sleep=0.0)
    with project.hub() as hub:
        hub.paths.pm_config.parent.mkdir(parents=True, exist_ok=True)
        hub.paths.pm_config.write_text('{"runner_launch": "spawn"}')
    task = project.create_task("spawned")
    with project.hub() as hub:
        hub.queue.enqueue_subject("task", task)
    daemon = Daemon(project)

    def exited() -> bool:
        with project.hub() as hub:
            runs = hub.runs.list(limit=5).runs
            record = read_runner_record(hub.paths, runs[0].id) if runs else None
        return record is not None and record.exit_code is not None

    try:
        wait_until(lambda: _done(project, task), 120, "the run to finish")
        wait_until(exited, 60, "the runner to exit")
        gauges = _metrics(daemon)
    finally:
        daemon.stop()
    with project.hub() as hub:
        (run,) = hub.runs.list(limit=5).runs
        record = read_runner_record(hub.paths, run.id)
    assert record is not None
    assert record.launch == "spawn"
    assert record.exit_code == 0
    assert gauges["forkserver_up"] == 0
    assert "runner_forks" not in gauges


def _forkservers_of(pid: int) -> list[int]:
    found = []
    for child in children_of(pid):
        try:
            if b"forkserver" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            continue
    return found


def test_the_forkserver_is_warm_before_any_dispatch_and_ends_with_the_daemon(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path, "idempotent", sleep=0.0)
    daemon = Daemon(project)
    try:
        wait_until(lambda: _metrics(daemon)["forkserver_up"] == 1, 60, "the forkserver to be up")
        (server,) = _forkservers_of(daemon.proc.pid)
        assert _metrics(daemon).get("runner_forks", 0) == 0  # warm, not yet used
        task = project.create_task("first")
        with project.hub() as hub:
            hub.queue.enqueue_subject("task", task)
        wait_until(lambda: _done(project, task), 60, "the first run")
        assert _metrics(daemon)["forkserver_starts"] == 1
    finally:
        daemon.stop()
    wait_until(
        lambda: not Path(f"/proc/{server}").exists() or _zombie(server), 30, "forkserver exit"
    )


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.parametrize("runner_first", [True, False])
def test_a_runner_whose_daemon_died_before_recording_it_still_completes_its_entry(
    tmp_path: Path, runner_first: bool
) -> None:
    """The window between forking a runner and writing runs/<id>/runner.json: a daemon
    SIGKILLed there leaves an entry assigned to a run that only the run itself records (or
    not yet: the runner may still be starting when the next daemon comes up). The next daemon
    follows that runner (never starts the entry twice) and completes the entry."""
    project = _project(tmp_path, "idempotent", sleep=2.0)
    task = project.create_task("orphan")
    with project.hub() as hub:
        hub.queue.enqueue_subject("task", task)
        (entry,) = hub.queue.lease(1, workflow_ids=["wf-orphan"])
        assert entry.workflow_id == "wf-orphan"
    daemon: Daemon | None = None
    runner: subprocess.Popen[bytes] | None = None

    def entry_done() -> bool:
        with project.hub() as hub:
            return hub.queue.get(entry.entry_id).status == "completed"

    try:
        if not runner_first:  # it recovers, holding the entry; its runner starts after
            daemon = Daemon(project)
            wait_until(lambda: _recovery_grace(project) == ["wf-orphan"], 30, "the grace")
        runner = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "animus_workflow_runner.cli",
                *("execute", "--project-root", str(project.root), "--task-id", task),
                *("--run-id", "wf-orphan"),
            ],
            env=project.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(lambda: _in_build(project, "wf-orphan"), 60, "the run's build phase")
        daemon = daemon or Daemon(project)
        wait_until(entry_done, 60, "the orphan's queue entry to complete")
        with project.hub() as hub:
            record = read_runner_record(hub.paths, "wf-orphan")
            runs = hub.runs.list(limit=5).runs
    finally:
        if daemon is not None:
            daemon.stop()
        if runner is not None:
            try:
                runner.wait(60)
            except subprocess.TimeoutExpired:
                runner.kill()
                runner.wait(10)
    assert record is not None
    assert record.entry_id == entry.entry_id
    assert [r.id for r in runs] == ["wf-orphan"]  # followed, not started again
    assert runner.returncode == 0


def _recovery_grace(project: WorkflowProject) -> list[str] | None:
    with project.hub() as hub:
        path = hub.paths.events_log
    for line in path.read_text().splitlines() if path.exists() else []:
        record = json.loads(line)
        if record.get("event_type") == "recovery" and "grace" in record.get("data", {}):
            return list(record["data"]["grace"])
    return None
