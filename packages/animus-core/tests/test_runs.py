from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from animus_core.hub import ServiceHub
from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_protocol.workflow import WorkflowDecisionRecord, WorkflowRun


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ServiceHub]:
    project = tmp_path / "project"
    project.mkdir()
    with ServiceHub(project, env={"ANIMUS_HOME": str(tmp_path / "home")}) as h:
        yield h


def _run(run_id: str, status: str = "running", *, days_ago: float = 0, **kw: object) -> WorkflowRun:
    started = datetime(2026, 1, 1, tzinfo=UTC) if days_ago < 0 else datetime.now(UTC)
    started -= timedelta(days=max(days_ago, 0))
    fields: dict[str, object] = {
        "id": run_id,
        "task_id": f"TASK-{run_id}",
        "subject": {"Task": {"id": f"TASK-{run_id}"}},
        "status": status,
        "workflow_ref": "standard",
        "started_at": started,
        **kw,
    }
    if status in ("completed", "failed", "cancelled", "escalated"):
        fields.setdefault("completed_at", started + timedelta(minutes=5))
    return WorkflowRun.model_validate(fields)


def test_save_get_list_and_summary_columns(hub: ServiceHub) -> None:
    hub.runs.save(_run("a", "running", phases=[{"phase_id": "impl"}]))
    hub.runs.save(_run("b", "failed", days_ago=1, failure_reason="tests failed"))
    got = hub.runs.get("a")
    assert got.status == "running"
    assert got.subject.id == "TASK-a"
    page = hub.runs.list()
    assert page.total == 2
    assert [r.id for r in page.runs] == ["a", "b"]  # newest first
    assert page.runs[0].phase_id == "impl"
    assert hub.runs.list(status="FAILED").runs[0].failure_reason == "tests failed"
    assert hub.runs.list(task_id="TASK-b").total == 1
    with pytest.raises(InvalidInputError, match="workflow status"):
        hub.runs.list(status="exploded")
    with pytest.raises(NotFoundError, match="workflow run nope not found"):
        hub.runs.get("nope")
    # upsert: the same id replaces the row
    hub.runs.save(_run("a", "completed"))
    assert hub.runs.get("a").status == "completed"
    assert hub.runs.list().total == 2
    assert hub.runs.active_subjects() == set()


def test_active_subjects_and_active_runs(hub: ServiceHub) -> None:
    hub.runs.save(_run("a", "running"))
    hub.runs.save(_run("b", "paused"))
    hub.runs.save(_run("c", "completed"))
    assert hub.runs.active_subjects() == {"TASK-a", "TASK-b"}
    assert {r.id for r in hub.runs.active()} == {"a", "b"}


def test_decisions(hub: ServiceHub) -> None:
    decision = WorkflowDecisionRecord(phase_id="impl", decision="advance", reason="ok")
    hub.runs.save(_run("a", decision_history=[decision]))
    (got,) = hub.runs.decisions("a")
    assert (got.phase_id, got.decision, got.reason) == ("impl", "advance", "ok")
    with pytest.raises(NotFoundError):
        hub.runs.decisions("zzz")


def test_checkpoints_are_numbered_without_collisions(hub: ServiceHub) -> None:
    hub.runs.save(_run("a"))
    errors: list[BaseException] = []

    def add(n: int) -> None:
        try:
            for _ in range(5):
                hub.runs.add_checkpoint(
                    "a", "status-change", "impl", "run-phase", "running", snapshot={"n": n}
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    numbers = [c.number for c in hub.runs.checkpoints("a")]
    assert numbers == list(range(1, 21))
    latest = hub.runs.checkpoint("a")
    assert latest.checkpoint.number == 20
    assert latest.snapshot in ({"n": i} for i in range(4))
    assert hub.runs.checkpoint("a", 3).checkpoint.number == 3
    assert hub.runs.get("a").checkpoint_metadata.checkpoint_count == 20
    with pytest.raises(NotFoundError, match="no checkpoint 99"):
        hub.runs.checkpoint("a", 99)
    with pytest.raises(NotFoundError):
        hub.runs.add_checkpoint("missing", "manual", None, "idle", "pending")
    with pytest.raises(InvalidInputError, match="checkpoint reason"):
        hub.runs.add_checkpoint("a", "whim", None, "idle", "pending")


def test_prune_dry_run_then_delete_terminal_runs_only(hub: ServiceHub) -> None:
    hub.runs.save(_run("old-done", "completed", days_ago=40))
    hub.runs.save(_run("old-failed", "failed", days_ago=35))
    hub.runs.save(_run("old-running", "running", days_ago=50))
    hub.runs.save(_run("new-done", "completed", days_ago=1))
    hub.runs.add_checkpoint("old-done", "start", None, "idle", "running")
    plan = hub.runs.prune(older_than="30d")
    assert plan.dry_run
    assert {r.id for r in plan.runs} == {"old-done", "old-failed"}
    assert hub.runs.list().total == 4
    assert {r.id for r in hub.runs.prune(older_than="30", status="failed").runs} == {"old-failed"}
    assert {r.id for r in hub.runs.prune(keep_last=1).runs} == {"old-done", "old-failed"}
    assert {r.id for r in hub.runs.prune(keep_last=2, older_than="30d").runs} == {"old-done"}
    done = hub.runs.prune(older_than="30d", dry_run=False)
    assert done.deleted
    assert {r.id for r in hub.runs.list().runs} == {"old-running", "new-done"}
    with pytest.raises(InvalidInputError, match="older-than"):
        hub.runs.prune()
    with pytest.raises(InvalidInputError, match="only finished runs"):
        hub.runs.prune(older_than="1d", status="running")
    with pytest.raises(InvalidInputError, match="invalid duration"):
        hub.runs.prune(older_than="soon")
    with pytest.raises(InvalidInputError):
        hub.runs.prune(keep_last=-1)


def test_delete_refuses_active_runs_unless_forced(hub: ServiceHub) -> None:
    hub.runs.save(_run("a", "running"))
    hub.runs.save(_run("b", "completed"))
    hub.runs.add_checkpoint("b", "start", None, "idle", "running")
    assert hub.runs.delete("b").id == "b"
    with pytest.raises(NotFoundError):
        hub.runs.get("b")
    with pytest.raises(ConflictError, match="active run") as info:
        hub.runs.delete("a")
    assert "--force" in (info.value.hint or "")
    hub.runs.delete("a", force=True)
    with pytest.raises(NotFoundError):
        hub.runs.delete("a")


def test_an_unreadable_run_is_a_clear_error_and_can_be_deleted(hub: ServiceHub) -> None:
    import sqlite3

    from animus_protocol.envelope import InternalError

    hub.runs.save(_run("a", "failed"))
    conn = sqlite3.connect(hub.paths.workflow_db)
    with conn:
        conn.execute("UPDATE workflows SET json = '{\"id\": 5' WHERE id = 'a'")
    conn.close()
    assert hub.runs.list().runs[0].id == "a"  # summaries still readable
    with pytest.raises(InternalError, match="cannot read") as info:
        hub.runs.get("a")
    assert info.value.code == "corrupt_state"
    assert "delete a" in (info.value.hint or "")
    hub.runs.delete("a")
    assert hub.runs.list().total == 0


def test_prune_checkpoints_keeps_the_newest_per_phase(hub: ServiceHub) -> None:
    hub.runs.save(_run("a"))
    for phase in ("impl", "impl", "test", "impl", "test", "impl"):
        hub.runs.add_checkpoint("a", "status-change", phase, "run-phase", "running")
    assert hub.runs.prune_checkpoints("a", keep_last=2) == [1, 2]
    assert len(hub.runs.checkpoints("a")) == 6
    assert hub.runs.prune_checkpoints("a", keep_last=2, dry_run=False) == [1, 2]
    assert [c.number for c in hub.runs.checkpoints("a")] == [3, 4, 5, 6]
    run = hub.runs.get("a")
    assert [c.number for c in run.checkpoint_metadata.checkpoints] == [3, 4, 5, 6]
    assert hub.runs.add_checkpoint("a", "manual", None, "idle", "running").number == 7
    with pytest.raises(NotFoundError):
        hub.runs.prune_checkpoints("zzz")
    with pytest.raises(InvalidInputError):
        hub.runs.prune_checkpoints("a", keep_last=-1)
