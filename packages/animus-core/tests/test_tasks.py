from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from animus_core.hub import ServiceHub
from animus_core.tasks import TaskFilter, TaskService
from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_protocol.statuses import TaskStatus


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ServiceHub]:
    project = tmp_path / "project"
    project.mkdir()
    with ServiceHub(project, env={"ANIMUS_HOME": str(tmp_path / "home")}) as h:
        yield h


@pytest.fixture
def tasks(hub: ServiceHub) -> TaskService:
    return hub.tasks


def _raw(hub: ServiceHub, sql: str, *args: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(hub.paths.workflow_db)
    try:
        return [tuple(r) for r in conn.execute(sql, args).fetchall()]
    finally:
        conn.close()


def test_create_allocates_ids_and_writes_summary_and_side_tables(
    hub: ServiceHub, tasks: TaskService
) -> None:
    a = tasks.create(title="  First  ", priority="HIGH", task_type="bug", tags=["x", "x", " y "])
    b = tasks.create(title="Second")
    assert (a.id, b.id) == ("TASK-001", "TASK-002")
    assert a.title == "First"
    assert a.priority.value == "high"
    assert a.task_type.value == "bugfix"
    assert a.tags == ["x", "y"]
    assert a.metadata.created_by == "cli"
    assert a.metadata.version == 1
    assert _raw(
        hub, "SELECT id, number, status, priority_rank, task_type FROM tasks ORDER BY id"
    ) == [
        ("TASK-001", 1, "backlog", 1, "bugfix"),
        ("TASK-002", 2, "backlog", 2, "feature"),
    ]
    assert _raw(hub, "SELECT tag FROM task_tags WHERE task_id='TASK-001' ORDER BY tag") == [
        ("x",),
        ("y",),
    ]
    assert _raw(hub, "SELECT event_type, task_id FROM history ORDER BY id") == [
        ("task.created", "TASK-001"),
        ("task.created", "TASK-002"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"title": ""}, "title"),
        ({"title": "t", "priority": "urgentest"}, "priority"),
        ({"title": "t", "task_type": "nope"}, "task type"),
        ({"title": "t", "status": "sideways"}, "task status"),
        ({"title": "t", "deadline": "tomorrow-ish"}, "timestamp"),
        ({"title": "t", "risk": "extreme"}, "risk"),
    ],
)
def test_create_rejects_bad_values(tasks: TaskService, kwargs: dict[str, str], needle: str) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        tasks.create(**kwargs)  # type: ignore[arg-type]
    assert tasks.list().total == 0


def test_get_accepts_loose_id_spelling_and_reports_unknown(tasks: TaskService) -> None:
    tasks.create(title="t")
    assert tasks.get("task-1").id == "TASK-001"
    with pytest.raises(NotFoundError) as info:
        tasks.get("TASK-999")
    assert info.value.hint is not None
    assert "animus task list" in info.value.hint


def test_every_allowed_transition_and_refusals(tasks: TaskService) -> None:
    t = tasks.create(title="t")
    with pytest.raises(ConflictError) as info:
        tasks.set_status(t.id, "done")
    assert "--force" in (info.value.hint or "")
    t = tasks.set_status(t.id, "ready")
    t = tasks.set_status(t.id, "InProgress")
    assert t.metadata.started_at is not None
    t = tasks.set_status(t.id, "blocked", reason="waiting for api")
    assert t.blocked_reason == "waiting for api"
    assert t.blocked_at is not None
    t = tasks.set_status(t.id, "ready")
    assert t.blocked_reason is None
    assert t.blocked_at is None
    t = tasks.set_status(t.id, "backlog")
    t = tasks.set_status(t.id, "on_hold")
    t = tasks.set_status(t.id, "cancelled", reason="not needed")
    assert t.cancelled
    assert t.resolution == "not needed"
    with pytest.raises(ConflictError):
        tasks.set_status(t.id, "ready")
    t = tasks.reopen(t.id)
    assert t.status is TaskStatus.BACKLOG
    assert not t.cancelled
    assert t.resolution is None
    t = tasks.set_status(t.id, "done", force=True)
    assert t.metadata.completed_at is not None


def test_status_change_bumps_version_and_records_history(
    hub: ServiceHub, tasks: TaskService
) -> None:
    t = tasks.create(title="t")
    moved = tasks.set_status(t.id, "ready", by="alice")
    assert moved.metadata.version == 2
    assert moved.metadata.updated_by == "alice"
    assert moved.metadata.updated_at > t.metadata.updated_at
    same = tasks.set_status(t.id, "ready")
    assert same.metadata.version == 2  # same status: a no-op, no history row
    rows = _raw(hub, "SELECT event_type, json FROM history WHERE event_type LIKE 'task.status%'")
    assert len(rows) == 1
    assert '"from":"backlog"' in str(rows[0][1])
    assert '"to":"ready"' in str(rows[0][1])


def test_reopen_pause_resume_block_rules(tasks: TaskService) -> None:
    t = tasks.create(title="t", status="ready")
    with pytest.raises(ConflictError, match="only done or cancelled"):
        tasks.reopen(t.id)
    paused = tasks.pause(t.id)
    assert paused.status is TaskStatus.ON_HOLD
    assert paused.paused
    assert tasks.next() is None
    resumed = tasks.resume(t.id)
    assert resumed.status is TaskStatus.READY
    assert not resumed.paused
    with pytest.raises(ConflictError, match="not paused"):
        tasks.resume(t.id)
    with pytest.raises(InvalidInputError, match="reason"):
        tasks.block(t.id, "  ")
    blocked = tasks.block(t.id, "needs design")
    assert blocked.status is TaskStatus.BLOCKED
    assert blocked.blocked_reason == "needs design"
    again = tasks.block(t.id, "needs review")
    assert again.blocked_reason == "needs review"
    tasks.set_status(t.id, "ready")
    tasks.set_status(t.id, "in-progress")
    with pytest.raises(ConflictError, match="only backlog, ready or blocked"):
        tasks.pause(t.id)
    tasks.set_status(t.id, "done")
    with pytest.raises(ConflictError, match="reopen"):
        tasks.block(t.id, "x")


def test_dependencies_cycles_and_unknown_ids(tasks: TaskService) -> None:
    a, b, c = (tasks.create(title=n) for n in "abc")
    tasks.add_dependency(b.id, a.id)
    tasks.add_dependency(c.id, b.id)
    with pytest.raises(ConflictError) as info:
        tasks.add_dependency(a.id, c.id)
    assert info.value.details["cycle"] == ["TASK-001", "TASK-003", "TASK-002", "TASK-001"]
    with pytest.raises(InvalidInputError, match="itself"):
        tasks.add_dependency(a.id, a.id)
    with pytest.raises(NotFoundError):
        tasks.add_dependency(a.id, "TASK-404")
    with pytest.raises(NotFoundError):
        tasks.add_dependency("TASK-404", a.id)
    # related-to edges never form blocking cycles
    tasks.add_dependency(a.id, c.id, "related")
    assert tasks.unmet_dependencies(c.id) == ["TASK-002"]
    assert tasks.unmet_dependencies(a.id) == []
    unchanged = tasks.add_dependency(c.id, b.id)  # duplicate edge: no-op
    assert len(unchanged.dependencies) == 1
    tasks.remove_dependency(c.id, b.id)
    assert tasks.unmet_dependencies(c.id) == []
    with pytest.raises(NotFoundError):
        tasks.remove_dependency(c.id, b.id)


def test_in_progress_waits_for_dependencies_unless_forced(tasks: TaskService) -> None:
    a = tasks.create(title="a", status="ready")
    b = tasks.create(title="b", status="ready")
    tasks.add_dependency(b.id, a.id)
    with pytest.raises(ConflictError, match="waits for TASK-001"):
        tasks.set_status(b.id, "in-progress")
    assert tasks.set_status(b.id, "in-progress", force=True).status is TaskStatus.IN_PROGRESS


def test_next_honours_dependencies_and_priority(tasks: TaskService) -> None:
    assert tasks.next() is None
    a = tasks.create(title="a", status="ready", priority="low")
    b = tasks.create(title="b", status="ready", priority="critical")
    c = tasks.create(title="c", status="ready", priority="critical")
    tasks.create(title="backlog critical", priority="critical")
    tasks.add_dependency(b.id, a.id)
    tasks.add_dependency(c.id, b.id)
    order = []
    for _ in range(3):
        nxt = tasks.next()
        assert nxt is not None
        order.append(nxt.id)
        tasks.set_status(nxt.id, "in-progress")
        tasks.set_status(nxt.id, "done")
    assert order == [a.id, b.id, c.id]
    assert tasks.next() is None
    d = tasks.create(title="d", status="ready", priority="high")
    e = tasks.create(title="e", status="ready", priority="critical")
    nxt = tasks.next()
    assert nxt is not None
    assert nxt.id == e.id
    tasks.pause(e.id)
    nxt = tasks.next()
    assert nxt is not None
    assert nxt.id == d.id


def test_delete_removes_incoming_edges(hub: ServiceHub, tasks: TaskService) -> None:
    a = tasks.create(title="a")
    b = tasks.create(title="b", tags=["t"])
    tasks.add_dependency(b.id, a.id)
    assert tasks.dependents(a.id) == [b.id]
    tasks.delete(a.id)
    with pytest.raises(NotFoundError):
        tasks.get(a.id)
    assert tasks.get(b.id).dependencies == []
    assert _raw(hub, "SELECT count(*) FROM task_dependencies") == [(0,)]
    tasks.delete(b.id)
    assert _raw(hub, "SELECT count(*) FROM task_tags") == [(0,)]
    with pytest.raises(NotFoundError):
        tasks.delete(b.id)
    # ids are never reused
    assert tasks.create(title="c").id == "TASK-003"


def test_update_fields_and_refusals(hub: ServiceHub, tasks: TaskService) -> None:
    t = tasks.create(title="t", tags=["old"])
    u = tasks.update(
        t.id,
        title="new",
        description="why",
        priority="critical",
        task_type="docs",
        tags=["a", "b"],
        risk="high",
        scope="small",
        complexity="low",
        deadline="2030-01-02",
        assignee="agent:reviewer",
    )
    assert (u.title, u.priority.value, u.task_type.value, u.risk.value) == (
        "new",
        "critical",
        "docs",
        "high",
    )
    assert u.deadline is not None
    assert u.deadline.isoformat().startswith("2030-01-02T23:59:59")
    assert u.assignee.type == "agent"
    assert u.metadata.version == 2
    assert _raw(hub, "SELECT priority_rank, assignee, deadline FROM tasks") == [
        (0, "agent:reviewer", "2030-01-02T23:59:59.000000Z")
    ]
    assert sorted(r[0] for r in _raw(hub, "SELECT tag FROM task_tags")) == ["a", "b"]
    assert tasks.update(t.id, title="new").metadata.version == 2  # no change, no bump
    with pytest.raises(InvalidInputError, match="status"):
        tasks.update(t.id, status="done")
    with pytest.raises(InvalidInputError, match="priority"):
        tasks.update(t.id, priority="sky-high")
    with pytest.raises(InvalidInputError, match="empty"):
        tasks.update(t.id, title=" ")
    assert tasks.set_deadline(t.id, None).deadline is None
    assert tasks.set_priority(t.id, "urgent").priority.value == "critical"


def test_checklist_and_assign(tasks: TaskService) -> None:
    t = tasks.create(title="t")
    t = tasks.checklist_add(t.id, "write tests")
    t = tasks.checklist_add(t.id, "write docs")
    assert [i.id for i in t.checklist] == ["item-1", "item-2"]
    t = tasks.checklist_update(t.id, "item-2", completed=True)
    assert t.checklist[1].completed
    assert t.checklist[1].completed_at is not None
    t = tasks.checklist_update(t.id, "item-2", completed=False, description="docs!")
    assert not t.checklist[1].completed
    assert t.checklist[1].description == "docs!"
    with pytest.raises(NotFoundError, match="item-9"):
        tasks.checklist_update(t.id, "item-9", completed=True)
    with pytest.raises(InvalidInputError):
        tasks.checklist_add(t.id, "")
    t = tasks.assign(t.id, "dev", assignee_type="agent", model="m1")
    assert t.assignee.model_dump() == {"type": "agent", "role": "dev", "model": "m1"}
    t = tasks.assign(t.id, "alice")
    assert t.assignee.model_dump() == {"type": "human", "user_id": "alice"}
    assert tasks.list(TaskFilter(assignee="alice")).total == 1
    t = tasks.assign(t.id, None)
    assert t.assignee.type == "unassigned"
    assert tasks.list(TaskFilter(assignee="unassigned")).total == 1
    with pytest.raises(InvalidInputError, match="assignee type"):
        tasks.assign(t.id, "x", assignee_type="robot")


def test_list_filters_sort_and_pagination_on_hundreds(tasks: TaskService) -> None:
    priorities = ["critical", "high", "medium", "low"]
    statuses = ["backlog", "ready", "done"]
    types = ["feature", "bugfix", "docs"]
    for i in range(300):
        tasks.create(
            title=f"task {i} {'needle' if i % 50 == 0 else ''}",
            description="has a Haystack inside" if i % 75 == 0 else "",
            priority=priorities[i % 4],
            status=statuses[i % 3],
            task_type=types[i % 5 % 3],
            tags=["even"] if i % 2 == 0 else ["odd", "x"] if i % 3 == 0 else ["odd"],
        )
    assert tasks.list(TaskFilter(limit=0)).total == 300
    ready = tasks.list(TaskFilter(status=("ready",), limit=1000))
    assert ready.total == 100
    assert all(t.status is TaskStatus.READY for t in ready.items)
    both = tasks.list(TaskFilter(status=("ready", "done"), priority=("critical",), limit=1000))
    expected = [i for i in range(300) if i % 3 in (1, 2) and i % 4 == 0]
    assert both.total == len(expected)
    assert tasks.list(TaskFilter(tags=("odd", "x"), limit=1000)).total == len(
        [i for i in range(300) if i % 2 == 1 and i % 3 == 0]
    )
    assert tasks.list(TaskFilter(task_type=("docs",))).total == len(
        [i for i in range(300) if i % 5 % 3 == 2]
    )
    assert tasks.list(TaskFilter(search="NEEDLE")).total == 6
    assert tasks.list(TaskFilter(search="haystack")).total == 4
    assert tasks.list(TaskFilter(search="TASK-29")).total == 10  # TASK-290..299
    assert tasks.list(TaskFilter(search="100%")).total == 0  # LIKE wildcards are literal

    # priority sort: rank then id; pages are disjoint and cover everything
    seen: list[str] = []
    for offset in range(0, 300, 70):
        page = tasks.list(TaskFilter(limit=70, offset=offset))
        assert page.offset == offset
        assert page.limit == 70
        assert page.total == 300
        seen += [t.id for t in page.items]
    assert len(seen) == 300 == len(set(seen))
    ranks = [tasks.get(i).priority for i in seen[:80]]
    assert ranks[:75] == [ranks[0]] * 75
    assert ranks[0].value == "critical"
    by_id = tasks.list(TaskFilter(sort="id", limit=3))
    assert [t.id for t in by_id.items] == ["TASK-001", "TASK-002", "TASK-003"]
    tasks.update("TASK-150", title="touched")
    updated = tasks.list(TaskFilter(sort="updated", limit=1))
    assert updated.items[0].id == "TASK-150"
    created = tasks.list(TaskFilter(sort="created", limit=2))
    assert [t.id for t in created.items] == ["TASK-001", "TASK-002"]


@pytest.mark.parametrize(
    ("flt", "needle"),
    [
        (TaskFilter(sort="random"), "unknown sort"),  # type: ignore[arg-type]
        (TaskFilter(limit=-1), "limit"),
        (TaskFilter(offset=-5), "offset"),
        (TaskFilter(status=("bogus",)), "task status"),
        (TaskFilter(priority=("bogus",)), "priority"),
    ],
)
def test_list_rejects_bad_filters(tasks: TaskService, flt: TaskFilter, needle: str) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        tasks.list(flt)


def test_count_by_status_lists_every_status(tasks: TaskService) -> None:
    tasks.create(title="a")
    tasks.create(title="b", status="ready")
    counts = tasks.count_by_status()
    assert counts["backlog"] == 1
    assert counts["ready"] == 1
    assert set(counts) == {s.value for s in TaskStatus}


def test_comment_goes_to_history_only(hub: ServiceHub, tasks: TaskService) -> None:
    t = tasks.create(title="t")
    assert tasks.comment(t.id, "  note this  ").metadata.version == 1
    assert _raw(hub, "SELECT message FROM history WHERE event_type = 'task.commented'") == [
        ("note this",)
    ]
    with pytest.raises(InvalidInputError, match="needs text"):
        tasks.comment(t.id, " ")
    with pytest.raises(NotFoundError):
        tasks.comment("TASK-404", "x")


def test_a_corrupt_row_is_reported_and_never_overwritten(
    hub: ServiceHub, tasks: TaskService
) -> None:
    from animus_core._task_rows import CorruptRecordError

    t = tasks.create(title="t")
    conn = sqlite3.connect(hub.paths.workflow_db)
    conn.execute('UPDATE tasks SET json = \'{"id": "TASK-001", "status": 7\' WHERE id = ?', (t.id,))
    conn.commit()
    conn.close()
    with pytest.raises(
        CorruptRecordError, match=r"TASK-001 in workflow\.db cannot be read"
    ) as info:
        tasks.get(t.id)
    assert info.value.code == "corrupt_state"
    assert info.value.hint is not None
    with pytest.raises(CorruptRecordError):
        tasks.set_status(t.id, "ready")
    with pytest.raises(CorruptRecordError):
        tasks.list()
    assert _raw(hub, "SELECT json FROM tasks") == [('{"id": "TASK-001", "status": 7',)]
