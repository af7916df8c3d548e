"""A dependency chain A <- B <- C is dispatched only in order, and the lease never hands out a
subject that already has an active run, also when several processes lease at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from animus_core.hub import ServiceHub
from animus_protocol.workflow import WorkflowRun


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ServiceHub]:
    project = tmp_path / "project"
    project.mkdir()
    with ServiceHub(project, env={"ANIMUS_HOME": str(tmp_path / "home")}) as h:
        yield h


def _run(run_id: str, task_id: str, status: str) -> WorkflowRun:
    return WorkflowRun(id=run_id, task_id=task_id, subject={"Task": {"id": task_id}}, status=status)


def test_chain_is_dispatched_only_in_order(hub: ServiceHub) -> None:
    a, b, c = (hub.tasks.create(title=t, status="ready").id for t in "ABC")
    hub.tasks.add_dependency(b, a)
    hub.tasks.add_dependency(c, b)
    for task_id in (c, b, a):  # enqueued in reverse, and C most urgent
        priority = "critical" if task_id == c else "low"
        hub.queue.enqueue_subject("task", task_id, workflow_ref="standard", priority=priority)
    order: list[str] = []
    for step, task_id in enumerate((a, b, c)):
        leased = hub.queue.lease(10)
        assert [e.task_id for e in leased] == [task_id], f"step {step}"
        entry = leased[0]
        order.append(task_id)
        # the run starts: while it is active nothing else of the chain is dispatchable
        hub.runs.save(_run(f"wf-{task_id}", task_id, "running"))
        hub.queue.complete(entry.entry_id, "completed", workflow_id=f"wf-{task_id}")
        assert hub.queue.lease(10) == []
        hub.tasks.set_status(task_id, "in-progress")
        hub.tasks.set_status(task_id, "done")
        hub.runs.save(_run(f"wf-{task_id}", task_id, "completed"))
    assert order == [a, b, c]
    assert hub.queue.stats().completed == 3


def test_lease_never_hands_out_a_subject_with_an_active_run(hub: ServiceHub) -> None:
    t = hub.tasks.create(title="busy", status="ready").id
    hub.runs.save(_run("wf-1", t, "running"))
    hub.queue.enqueue_subject("task", t, workflow_ref="standard")
    for status in ("pending", "running", "paused"):
        hub.runs.save(_run("wf-1", t, status))
        assert hub.queue.lease(5) == [], status
    assert hub.runs.active_subjects() == {t}
    hub.runs.save(_run("wf-1", t, "failed"))
    (entry,) = hub.queue.lease(5)
    assert entry.task_id == t
    # an assigned entry also makes the subject busy for any further entry
    hub.queue.release_pending(entry.entry_id, "retry")
    assert hub.queue.lease(5, exclude_subjects=[t]) == []
    assert len(hub.queue.lease(5)) == 1


_LEASER = r"""
import json, sys
from animus_core.hub import ServiceHub
got = []
with ServiceHub(sys.argv[1]) as hub:
    for _ in range(200):
        leased = hub.queue.lease(2)
        if not leased:
            break
        got += [e.subject_key for e in leased]
print(json.dumps(got))
"""


def test_concurrent_leasers_never_share_a_subject(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = {**os.environ, "ANIMUS_HOME": str(tmp_path / "home")}
    with ServiceHub(project, env=env) as hub:
        busy = hub.tasks.create(title="busy", status="ready").id
        hub.runs.save(_run("wf-busy", busy, "running"))
        hub.queue.enqueue_subject("task", busy, workflow_ref="standard")
        for n in range(40):
            hub.queue.enqueue_subject("custom", f"s{n}", workflow_ref="standard")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _LEASER, str(project)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    seen: list[str] = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
            seen += json.loads(out)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    assert sorted(seen) == sorted(f"s{n}" for n in range(40))  # each once, busy never
