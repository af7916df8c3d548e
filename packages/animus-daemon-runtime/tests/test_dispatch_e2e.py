"""A real daemon process drains the queue with the runner contract's processes."""

from __future__ import annotations

import threading
from typing import Any

from _support import Project, running_daemon, task_statuses, wait_until


def test_autonomous_drain_within_pool_each_subject_once_with_live_stream(project: Project) -> None:
    ids = project.tasks(12)
    with running_daemon(project, "--pool-size", "3", "--interval-secs", "30") as daemon:
        seen: list[dict[str, Any]] = []
        ready = threading.Event()

        def watch() -> None:
            with project.client(60) as client:
                ident = client.request(
                    "workflow/events", {"kinds": ["phase_completed", "workflow_completed"]}
                )
                assert client.wait_reply(ident)["result"] == {"watching": True}
                ready.set()
                while len([e for e in seen if e["kind"] == "workflow_completed"]) < len(ids):
                    message = client.read_message(60)
                    if message is None:
                        return
                    if message.get("method") == "workflow/event":
                        seen.append(message["params"]["data"])

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        assert ready.wait(30)
        with project.client() as client:
            for task_id in ids:  # through the socket: each enqueue wakes the daemon at once
                client.call("queue/enqueue", {"task_id": task_id})
        wait_until(
            lambda: set(task_statuses(project, ids).values()) == {"done"}, 120, "every task done"
        )
        watcher.join(60)
        with project.client() as client:
            # The runner marks its task done just before it exits; the daemon's projection of
            # that exit (queue completion, counters) follows.
            wait_until(
                lambda: client.call("queue/stats")["done_recent"] == len(ids), 30, "projections"
            )
            metrics = client.call("daemon/metrics")
            stats = client.call("queue/stats")
        assert daemon.proc is not None
        assert daemon.proc.poll() is None
    assert project.max_concurrency() <= 3
    starts = [wf for what, wf, _ in project.trace_lines() if what == "start"]
    assert len(starts) == len(set(starts)) == len(ids)  # each run started once
    runs = project.hub.runs.list(limit=100).runs
    assert sorted(r.subject_key for r in runs) == sorted(ids)  # each subject ran once
    phase_events = [e for e in seen if e["kind"] == "phase_completed"]
    assert len(phase_events) == 3 * len(ids)  # every phase of every run, live from the runners
    assert {e["payload"]["phase_id"] for e in phase_events} == {"phase-1", "phase-2", "phase-3"}
    assert metrics["counters"]["workflow_runs_total{status=completed}"] == len(ids)
    assert metrics["counters"]["phase_executions_total{status=success}"] == 3 * len(ids)
    assert (stats["done_recent"], stats["ready"], stats["in_flight"]) == (len(ids), 0, 0)


def test_failed_run_blocks_its_task_and_completes_its_entry_as_failed(tmp_path: Any) -> None:
    project = Project(tmp_path, FAKE_RUNNER_FAIL="TASK-002")
    ids = project.tasks(3)
    entries = project.enqueue(ids)
    with running_daemon(project, "--pool-size", "2"):
        wait_until(
            lambda: all(
                project.hub.queue.get(e).status in ("completed", "failed") for e in entries
            ),
            60,
            "every entry finished",
        )
        with project.client() as client:
            events = list(
                client.stream("daemon/events", {"since": "1970-01-01T00:00:00Z"}, idle_timeout=0.5)
            )
    assert [project.hub.queue.get(e).status for e in entries] == [
        "completed",
        "failed",
        "completed",
    ]
    assert task_statuses(project, ids) == {
        "TASK-001": "done",
        "TASK-002": "blocked",
        "TASK-003": "done",
    }
    kinds = [data["kind"] for _name, data in events]
    assert {"workflow-failed", "task-blocked", "daemon_startup"} <= set(kinds)


def test_pause_stops_new_dispatch_and_resume_restarts_it(project: Project) -> None:
    ids = project.tasks(2)
    with running_daemon(project, "--interval-secs", "30") as daemon:
        with project.client() as client:
            assert client.call("daemon/pause")["runtime_paused"] is True
            client.call("queue/enqueue", {"task_id": ids[0]})
            wakes = client.call("daemon/status")["wakes"]
            client.call("daemon/nudge", {"reason": "test"})
            wait_until(lambda: client.call("daemon/status")["wakes"] > wakes, 30, "a wake")
            # That wake ran with dispatch paused: the entry is still waiting.
            assert project.hub.queue.entry_for_subject(ids[0]).status == "pending"  # type: ignore[union-attr]
            assert client.call("daemon/health")["runtime_paused"] is True
            assert client.call("daemon/resume")["runtime_paused"] is False
        wait_until(
            lambda: task_statuses(project, ids[:1]) == {ids[0]: "done"}, 60, "dispatch after resume"
        )
        assert daemon.proc is not None
    assert project.trace_lines()[0][0] == "start"


def test_workflow_pause_resume_and_cancel_reach_live_runners(tmp_path: Any) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="0.4")
    first, second = project.tasks(2)
    entries = project.enqueue([first, second])
    with running_daemon(project, "--pool-size", "2"), project.client() as c:
        runs = wait_until(
            lambda: len(project.hub.runs.active()) == 2 and project.hub.runs.active(), 30, "2 runs"
        )
        by_subject = {r.subject_key: r.id for r in runs}
        c.call("workflow/pause", {"id": by_subject[first]})
        c.call("workflow/cancel", {"id": by_subject[second], "reason": "not needed"})
        wait_until(
            lambda: project.hub.runs.get(by_subject[first]).status.value == "paused", 30, "paused"
        )
        wait_until(
            lambda: project.hub.queue.get(entries[1]).status == "cancelled", 30, "cancelled entry"
        )
        assert project.hub.runs.get(by_subject[second]).status.value == "cancelled"
        assert project.hub.tasks.get(second).status.value == "cancelled"
        assert (
            project.hub.queue.get(entries[0]).status == "assigned"
        )  # a paused run keeps its slot claim
        c.call("workflow/resume", {"id": by_subject[first]})
        wait_until(
            lambda: project.hub.queue.get(entries[0]).status == "completed",
            30,
            "resumed to the end",
        )
    assert project.hub.tasks.get(first).status.value == "done"
    kinds = [e["kind"] for e in project.run_events(by_subject[first])]
    assert {"workflow_paused", "workflow_resumed"} <= set(kinds)


def test_a_missing_runner_leaves_work_queued_and_health_says_why(tmp_path: Any) -> None:
    project = Project(tmp_path, ANIMUS_WORKFLOW_RUNNER_BIN="/nonexistent/animus-workflow-runner")
    (task,) = project.tasks(1)
    (entry,) = project.enqueue([task])
    with running_daemon(project) as daemon, project.client() as c:
        health = wait_until(
            lambda: (h := c.call("daemon/health"))["status"] == "degraded" and h, 30, "degraded"
        )
        assert any("/nonexistent/animus-workflow-runner" in r for r in health["degraded_reasons"])
        assert project.hub.queue.get(entry).status == "pending"  # put back, not lost
        assert daemon.proc is not None
        assert daemon.proc.poll() is None
    assert project.hub.runs.list(limit=5).total == 0
