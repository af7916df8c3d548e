from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from animus_core.hub import ServiceHub
from animus_protocol.envelope import InvalidInputError, NotFoundError


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ServiceHub]:
    project = tmp_path / "project"
    project.mkdir()
    with ServiceHub(project, env={"ANIMUS_HOME": str(tmp_path / "home")}) as h:
        yield h


def test_record_for_task_recent_and_get(hub: ServiceHub) -> None:
    now = datetime.now(UTC)
    first = hub.history.record(
        "workflow-started", task_id="TASK-001", workflow_id="wf-1", ts=now - timedelta(hours=2)
    )
    hub.history.record(
        "workflow-completed",
        task_id="TASK-001",
        workflow_id="wf-1",
        status="completed",
        message="all phases passed",
        data={"phases": 3},
    )
    hub.history.record("workflow-started", task_id="TASK-002", workflow_id="wf-2")
    records = hub.history.for_task("TASK-001")
    assert [r.event_type for r in records] == ["workflow-completed", "workflow-started"]
    assert records[0].data == {"phases": 3}
    assert records[0].status == "completed"
    assert records[0].subject_key == "TASK-001"
    assert len(hub.history.recent(2)) == 2
    assert hub.history.get(first.id).workflow_id == "wf-1"
    with pytest.raises(NotFoundError, match="history record 9999"):
        hub.history.get(9999)
    with pytest.raises(InvalidInputError):
        hub.history.record("  ")


def test_search_filters_and_time_ranges(hub: ServiceHub) -> None:
    now = datetime.now(UTC)
    hub.history.record("e", task_id="T1", status="failed", ts=now - timedelta(days=10))
    hub.history.record("e", task_id="T1", status="completed", ts=now - timedelta(days=3))
    hub.history.record("e", task_id="T2", workflow_id="wf", status="failed", ts=now)
    assert hub.history.search(since="7d").total == 2
    assert hub.history.search(since="7d", status="failed").total == 1
    assert hub.history.search(until="5d").total == 1
    assert hub.history.search(workflow_id="wf").total == 1
    assert hub.history.search(task_id="T1", limit=1, offset=1).records[0].status == "failed"
    stamp = (now - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert hub.history.search(since=stamp).total == 2
    with pytest.raises(InvalidInputError, match="invalid time"):
        hub.history.search(since="last tuesday")
    with pytest.raises(InvalidInputError, match="after --until"):
        hub.history.search(since="1d", until="3d")
    with pytest.raises(InvalidInputError):
        hub.history.search(limit=0)


def test_subject_events_from_task_service_are_readable(hub: ServiceHub) -> None:
    task = hub.tasks.create(title="x", status="ready")
    hub.tasks.set_status(task.id, "in-progress")
    records = hub.history.for_task(task.id)
    assert len(records) >= 2
    assert any(r.status == "in-progress" for r in records)
    assert hub.history.search(task_id=task.id, status="in-progress").total >= 1


def test_cleanup_dry_run_then_delete(hub: ServiceHub) -> None:
    now = datetime.now(UTC)
    hub.history.record("old", ts=now - timedelta(days=40))
    hub.history.record("new", ts=now)
    plan = hub.history.cleanup(30)
    assert (plan.dry_run, plan.count, plan.deleted) == (True, 1, False)
    assert hub.history.search().total == 2
    done = hub.history.cleanup(30, dry_run=False)
    assert done.deleted
    assert [r.event_type for r in hub.history.recent()] == ["new"]
    with pytest.raises(InvalidInputError):
        hub.history.cleanup(-1)


def test_an_unreadable_row_body_does_not_break_listing(hub: ServiceHub) -> None:
    import sqlite3

    rec = hub.history.record("e", task_id="T1")
    conn = sqlite3.connect(hub.paths.workflow_db)
    with conn:
        conn.execute("UPDATE history SET json = 'not json' WHERE id = ?", (rec.id,))
    conn.close()
    (got,) = hub.history.for_task("T1")
    assert got.data == {"unreadable_json": "not json"}
