from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from animus_core.hub import ServiceHub
from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_protocol.subjects import SubjectDispatch, SubjectRef
from animus_protocol.timeutil import utc_now_str
from animus_protocol.workflow import WorkflowRun


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ServiceHub]:
    project = tmp_path / "project"
    project.mkdir()
    with ServiceHub(project, env={"ANIMUS_HOME": str(tmp_path / "home")}) as h:
        yield h


def _tasks(hub: ServiceHub, n: int, **kw: str) -> list[str]:
    return [hub.tasks.create(title=f"task {i}", status="ready", **kw).id for i in range(n)]


def _custom(key: str, priority: str | None = None, at: str | None = None) -> SubjectDispatch:
    fields: dict[str, object] = {
        "subject": SubjectRef(kind="custom", id=key, title=key),
        "workflow_ref": "standard",
        "priority": priority,
        "trigger_source": "test",
    }
    if at:
        fields["requested_at"] = at
    return SubjectDispatch.model_validate(fields)


def test_enqueue_subject_checks_existence_and_uses_task_priority(hub: ServiceHub) -> None:
    (tid,) = _tasks(hub, 1, priority="high")
    entry = hub.queue.enqueue_subject("task", tid, vars={"k": "v"}, input={"x": 1})
    assert entry.status == "pending"
    assert entry.subject_kind == "animus.task"
    assert entry.task_id == tid
    assert entry.priority == "high"
    assert entry.priority_rank == 1
    assert entry.workflow_ref  # the project's default workflow
    assert entry.dispatch.vars == {"k": "v"}
    assert entry.dispatch.input == {"x": 1}
    assert hub.queue.get(entry.entry_id) == entry
    with pytest.raises(NotFoundError, match="task TASK-999 not found") as info:
        hub.queue.enqueue_subject("task", "TASK-999")
    assert info.value.hint
    with pytest.raises(NotFoundError):
        hub.queue.enqueue_subject("requirement", "REQ-001")
    with pytest.raises(InvalidInputError, match="unknown subject kind"):
        hub.queue.enqueue_subject("jira.issue", "ABC-1")
    req = hub.requirements.create(title="Login")
    assert hub.queue.enqueue_subject("requirement", req.id).subject_kind == "animus.requirement"
    with pytest.raises(InvalidInputError, match="priority"):
        hub.queue.enqueue_subject("task", tid, priority="urgent-ish")
    with pytest.raises(InvalidInputError, match="unknown workflow 'nope'") as bad_ref:
        hub.queue.enqueue_custom("x", workflow_ref="nope")
    assert "standard" in (bad_ref.value.hint or "")


def test_duplicate_subject_is_a_conflict_until_finished(hub: ServiceHub) -> None:
    (tid,) = _tasks(hub, 1)
    first = hub.queue.enqueue_subject("task", tid, workflow_ref="standard")
    with pytest.raises(ConflictError, match="already queued") as info:
        hub.queue.enqueue_subject("task", tid, workflow_ref="standard")
    assert first.entry_id in (info.value.hint or "")
    (leased,) = hub.queue.lease(1)
    with pytest.raises(ConflictError):
        hub.queue.enqueue_subject("task", tid, workflow_ref="standard")
    hub.queue.complete(leased.entry_id, "completed")
    assert hub.queue.entry_for_subject(tid) is None
    again = hub.queue.enqueue_subject("task", tid, workflow_ref="standard")
    found = hub.queue.entry_for_subject(tid)
    assert found is not None
    assert found.entry_id == again.entry_id
    assert again.entry_id != first.entry_id


def test_lease_orders_by_priority_then_fifo(hub: ServiceHub) -> None:
    low = hub.queue.enqueue(_custom("low", "low", "2026-01-01T00:00:00Z"))
    med_late = hub.queue.enqueue(_custom("med-late", "medium", "2026-01-01T00:00:02Z"))
    med_early = hub.queue.enqueue(_custom("med-early", "medium", "2026-01-01T00:00:01Z"))
    crit = hub.queue.enqueue(_custom("crit", "critical", "2026-01-01T00:00:03Z"))
    leased = hub.queue.lease(3)
    assert [e.entry_id for e in leased] == [crit.entry_id, med_early.entry_id, med_late.entry_id]
    assert all(e.status == "assigned" and e.assigned_at for e in leased)
    assert [e.entry_id for e in hub.queue.lease(5)] == [low.entry_id]
    assert hub.queue.lease(5) == []


def test_lease_skips_busy_excluded_deferred_and_blocked(hub: ServiceHub) -> None:
    a, b, c, d = _tasks(hub, 4)
    hub.tasks.add_dependency(c, a)  # c is blocked by a
    for tid in (a, b, c, d):
        hub.queue.enqueue_subject("task", tid, workflow_ref="standard")
    # b already has a running workflow run
    hub.runs.save(WorkflowRun(id="wf-b", task_id=b, subject={"Task": {"id": b}}, status="running"))
    future = hub.queue.enqueue(_custom("later"), run_at="2999-01-01T00:00:00Z")
    leased = hub.queue.lease(10, exclude_subjects=[d])
    assert [e.subject_key for e in leased] == [a]
    pending = {e.subject_key for e in hub.queue.list("pending").entries}
    assert pending == {b, c, d, "later"}
    assert hub.queue.stats().deferred == 1
    assert future.run_at == "2999-01-01T00:00:00.000000Z"
    # a is assigned: nothing more for a; c waits until a is done
    assert [e.subject_key for e in hub.queue.lease(10, exclude_subjects=[d])] == []
    hub.tasks.set_status(a, "in-progress")
    hub.tasks.set_status(a, "done")
    assert [e.subject_key for e in hub.queue.lease(10, exclude_subjects=[d])] == [c]


def test_lease_hands_out_one_entry_per_subject(hub: ServiceHub) -> None:
    # Two entries for one subject can only exist through rows written by older versions.
    hub.queue.enqueue(_custom("x"))
    hub.queue.enqueue(_custom("y"))
    conn = sqlite3.connect(hub.paths.workflow_db)
    with conn:
        conn.execute(
            "INSERT INTO queue_entries(entry_id, seq, subject_id, subject_key, subject_kind,"
            " status, priority_rank, requested_at, enqueued_at, dispatch_json)"
            " SELECT 'QE-dup', 999, subject_id, subject_key, subject_kind, 'pending',"
            " priority_rank, requested_at, enqueued_at, dispatch_json FROM queue_entries"
            " WHERE subject_key = 'custom::x'"
        )
    conn.close()
    leased = hub.queue.lease(3)
    assert sorted(e.subject_key for e in leased) == ["x", "y"]


def test_lease_with_workflow_ids_and_bad_sizes(hub: ServiceHub) -> None:
    hub.queue.enqueue(_custom("x"))
    (entry,) = hub.queue.lease(2, workflow_ids=["wf-1", "wf-2"])
    assert entry.workflow_id == "wf-1"
    with pytest.raises(InvalidInputError):
        hub.queue.lease(0)
    with pytest.raises(InvalidInputError, match="workflow ids"):
        hub.queue.lease(2, workflow_ids=["only-one"])


def test_completion_release_pending_and_mark_assigned(hub: ServiceHub) -> None:
    entry = hub.queue.enqueue(_custom("x"))
    with pytest.raises(ConflictError, match="not assigned"):
        hub.queue.release_pending(entry.entry_id, "nope")
    with pytest.raises(ConflictError):
        hub.queue.mark_assigned(entry.entry_id, "wf")
    (leased,) = hub.queue.lease(1)
    assert hub.queue.mark_assigned(leased.entry_id, "wf-9").workflow_id == "wf-9"
    back = hub.queue.release_pending(leased.entry_id, "runner failed to start")
    assert back.status == "pending"
    assert back.workflow_id is None
    (leased,) = hub.queue.lease(1)
    done = hub.queue.complete(leased.entry_id, "failed", workflow_id="wf-10")
    assert done.status == "failed"
    assert done.completed_at
    assert done.workflow_id == "wf-10"
    with pytest.raises(ConflictError):
        hub.queue.complete(leased.entry_id, "completed")
    with pytest.raises(InvalidInputError):
        hub.queue.complete(leased.entry_id, "exploded")
    with pytest.raises(NotFoundError):
        hub.queue.complete("QE-404", "completed")
    stats = hub.queue.stats()
    assert (stats.total, stats.failed, stats.pending) == (0, 1, 0)


def test_hold_release_drop_by_ids_subject_and_all(hub: ServiceHub) -> None:
    x = hub.queue.enqueue(_custom("x"))
    y = hub.queue.enqueue(_custom("y"))
    z = hub.queue.enqueue(_custom("z"))
    held = hub.queue.hold([x.entry_id], reason="wait")
    assert held.changed == [x.entry_id]
    got = hub.queue.get(x.entry_id)
    assert (got.status, got.hold_reason) == ("held", "wait")
    assert [e.entry_id for e in hub.queue.lease(5)] == [y.entry_id, z.entry_id]
    with pytest.raises(ConflictError, match="assigned"):
        hub.queue.hold([y.entry_id])
    with pytest.raises(NotFoundError):
        hub.queue.hold(["QE-404", x.entry_id])
    with pytest.raises(InvalidInputError):
        hub.queue.hold()
    with pytest.raises(InvalidInputError):
        hub.queue.hold([x.entry_id], all=True)
    released = hub.queue.release(subject_id="x")
    assert released.changed == [x.entry_id]
    with pytest.raises(NotFoundError):
        hub.queue.release(subject_id="nothing")
    plan = hub.queue.drop(all=True, dry_run=True)
    assert plan.changed == [x.entry_id]
    assert plan.dry_run
    assert {s["entry_id"] for s in plan.skipped} == {y.entry_id, z.entry_id}
    assert hub.queue.get(x.entry_id).status == "pending"
    hub.queue.drop(all=True)
    assert hub.queue.get(x.entry_id).status == "dropped"
    assert hub.queue.stats().dropped == 1
    # a dropped subject may be queued again
    assert hub.queue.enqueue(_custom("x")).status == "pending"


def test_reorder_moves_subjects_to_the_front(hub: ServiceHub) -> None:
    entries = [hub.queue.enqueue(_custom(k, "high" if k == "a" else "low")) for k in "abcd"]
    hub.queue.reorder(["d", "c"])
    order = [e.subject_key for e in hub.queue.list().entries]
    assert order == ["d", "c", "a", "b"]
    assert [e.subject_key for e in hub.queue.lease(2)] == ["d", "c"]
    # the dispatch keeps what was asked for
    assert hub.queue.get(entries[3].entry_id).dispatch.priority == "low"
    with pytest.raises(NotFoundError, match="zzz"):
        hub.queue.reorder(["zzz"])
    with pytest.raises(InvalidInputError):
        hub.queue.reorder([])


def test_list_paging_and_status_filters(hub: ServiceHub) -> None:
    for k in "abcde":
        hub.queue.enqueue(_custom(k))
    hub.queue.lease(1)
    page = hub.queue.list(limit=2, offset=1)
    assert page.total == 5
    assert len(page.entries) == 2
    assert hub.queue.list("assigned").total == 1
    assert hub.queue.list("pending,assigned").total == 5
    assert hub.queue.list("all").total == 5
    with pytest.raises(InvalidInputError, match="queue status"):
        hub.queue.list("sleeping")
    with pytest.raises(InvalidInputError):
        hub.queue.list(limit=0)


def test_lease_plan_walks_the_order_index(hub: ServiceHub) -> None:
    from animus_core._queue_lease import LEASE_SQL

    hub.queue.stats()  # creates the schema
    conn = sqlite3.connect(hub.paths.workflow_db)
    plan = " | ".join(
        str(r[3])
        for r in conn.execute(
            "EXPLAIN QUERY PLAN " + LEASE_SQL,
            {"now": utc_now_str(), "excluded": "[]", "batch": 10},
        )
    )
    conn.close()
    assert "idx_queue_status_order" in plan
    assert "TEMP B-TREE" not in plan  # no sort step, however long the queue


def test_queue_events_land_in_the_task_history(hub: ServiceHub) -> None:
    (tid,) = _tasks(hub, 1)
    entry = hub.queue.enqueue_subject("task", tid, workflow_ref="standard")
    hub.queue.hold([entry.entry_id], reason="wait")
    hub.queue.release([entry.entry_id])
    (leased,) = hub.queue.lease(1, workflow_ids=["wf-1"])
    hub.queue.release_pending(leased.entry_id, "did not start")
    (leased,) = hub.queue.lease(1)
    hub.queue.complete(leased.entry_id, "failed", workflow_id="wf-2")
    events = [r.event_type for r in reversed(hub.history.for_task(tid))]
    assert [e for e in events if e.startswith("queue.")] == [
        "queue.enqueued",
        "queue.held",
        "queue.released",
        "queue.leased",
        "queue.released-pending",
        "queue.leased",
        "queue.failed",
    ]
    last = hub.history.for_task(tid, 1)[0]
    assert (last.status, last.workflow_id, last.data["entry_id"]) == (
        "failed",
        "wf-2",
        entry.entry_id,
    )
    # dry runs record nothing
    hub.queue.enqueue(_custom("x"))
    before = hub.history.search().total
    hub.queue.drop(all=True, dry_run=True)
    assert hub.history.search().total == before


def test_an_unreadable_dispatch_is_held_and_reported_not_leased(hub: ServiceHub) -> None:
    bad = hub.queue.enqueue(_custom("bad"))
    good = hub.queue.enqueue(_custom("good"))
    conn = sqlite3.connect(hub.paths.workflow_db)
    with conn:
        conn.execute(
            "UPDATE queue_entries SET dispatch_json = '{broken' WHERE entry_id = ?",
            (bad.entry_id,),
        )
    conn.close()
    listed = {e.entry_id: e for e in hub.queue.list().entries}
    assert listed[bad.entry_id].problem
    assert listed[bad.entry_id].dispatch is None
    assert [e.entry_id for e in hub.queue.lease(5)] == [good.entry_id]
    held = hub.queue.get(bad.entry_id)
    assert held.status == "held"
    assert (held.hold_reason or "").startswith("unreadable dispatch")
    (error,) = hub.errors.list(category="queue").errors
    assert bad.entry_id in error.message
    assert hub.queue.drop([bad.entry_id]).changed == [bad.entry_id]


def test_a_workflow_added_later_is_accepted_without_a_new_service(hub: ServiceHub) -> None:
    hub.queue.enqueue_custom("a", workflow_ref="standard")
    with pytest.raises(InvalidInputError, match="unknown workflow 'extra'"):
        hub.queue.enqueue_custom("b", workflow_ref="extra")
    extra = hub.project_paths.workflows_dir / "extra.yaml"
    extra.write_text("workflows:\n  - id: extra\n    phases: [implement]\n")
    assert hub.queue.enqueue_custom("b", workflow_ref="extra").workflow_ref == "extra"
