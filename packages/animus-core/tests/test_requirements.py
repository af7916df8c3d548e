from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from animus_core.hub import ServiceHub
from animus_core.requirements import RequirementFilter, RequirementService
from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_protocol.statuses import RequirementStatus


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ServiceHub]:
    project = tmp_path / "project"
    project.mkdir()
    with ServiceHub(project, env={"ANIMUS_HOME": str(tmp_path / "home")}) as h:
        yield h


@pytest.fixture
def reqs(hub: ServiceHub) -> RequirementService:
    return hub.requirements


def _rows(hub: ServiceHub, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(hub.paths.workflow_db)
    try:
        return [tuple(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def test_create_get_list_update_delete(hub: ServiceHub, reqs: RequirementService) -> None:
    r = reqs.create(
        title="Login",
        priority="must-have",
        requirement_type="nfr",
        tags=["auth", "auth"],
        acceptance_criteria=["user can log in", " ", "errors are shown"],
        category="security",
    )
    assert r.id == "REQ-001"
    assert r.priority.value == "must"
    assert r.requirement_type.value == "non-functional"
    assert r.tags == ["auth"]
    assert r.acceptance_criteria == ["user can log in", "errors are shown"]
    assert reqs.get("req-1") == r
    reqs.create(title="Export", priority="could")
    assert _rows(hub, "SELECT id, priority_rank, category FROM requirements ORDER BY id") == [
        ("REQ-001", 0, "security"),
        ("REQ-002", 2, None),
    ]
    page = reqs.list(RequirementFilter(priority=("could",)))
    assert [x.id for x in page.items] == ["REQ-002"]
    assert reqs.list(RequirementFilter(tags=("auth",))).total == 1
    assert reqs.list(RequirementFilter(search="expo")).total == 1
    assert reqs.list(RequirementFilter(category="security")).total == 1
    assert [x.id for x in reqs.list(RequirementFilter(sort="id")).items] == ["REQ-001", "REQ-002"]
    u = reqs.update(r.id, title="Login v2", priority="should", tags=["x"])
    assert (u.title, u.priority.value, u.tags) == ("Login v2", "should", ["x"])
    assert u.updated_at > r.updated_at
    assert _rows(hub, "SELECT tag FROM requirement_tags WHERE requirement_id='REQ-001'") == [("x",)]
    with pytest.raises(InvalidInputError, match="status"):
        reqs.update(r.id, status="approved")
    with pytest.raises(InvalidInputError, match="requirement priority"):
        reqs.update(r.id, priority="maybe")
    commented = reqs.comment(r.id, "looks right", author="po")
    assert commented.comments[0].author == "po"
    reqs.delete(r.id)
    with pytest.raises(NotFoundError) as info:
        reqs.get(r.id)
    assert "animus requirement list" in (info.value.hint or "")
    with pytest.raises(InvalidInputError, match="title"):
        reqs.create(title=" ")


def test_lifecycle_and_rework_budget(reqs: RequirementService) -> None:
    r = reqs.create(title="r")
    with pytest.raises(ConflictError, match="accepted here: refine"):
        reqs.transition(r.id, "PoPass")
    r = reqs.transition(r.id, "Refine")
    assert r.status is RequirementStatus.REFINED
    for round_no in range(1, 4):
        r = reqs.transition(r.id, "submit-review")
        assert r.status is RequirementStatus.PO_REVIEW
        fail = "po_fail" if round_no % 2 else "PoPass"
        if fail == "PoPass":
            r = reqs.transition(r.id, fail)
            assert r.status is RequirementStatus.EM_REVIEW
            fail = "EmFail"
        r = reqs.transition(r.id, fail)
        assert r.status is RequirementStatus.NEEDS_REWORK
        assert r.rework_count == round_no
        r = reqs.transition(r.id, "refine")
    r = reqs.transition(r.id, "submit-review")
    with pytest.raises(ConflictError, match="rework budget exhausted") as info:
        reqs.transition(r.id, "po-fail")
    assert info.value.details["budget"] == 3
    assert reqs.get(r.id).status is RequirementStatus.PO_REVIEW  # nothing changed
    r = reqs.transition(r.id, "po-pass")
    r = reqs.transition(r.id, "em-pass")
    assert r.status is RequirementStatus.APPROVED
    with pytest.raises(InvalidInputError, match="requirement event"):
        reqs.transition(r.id, "explode")


def test_direct_status_moves(reqs: RequirementService) -> None:
    r = reqs.create(title="r")
    with pytest.raises(ConflictError) as info:
        reqs.set_status(r.id, "done")
    assert "--force" in (info.value.hint or "")
    assert reqs.set_status(r.id, "deprecated").status is RequirementStatus.DEPRECATED
    assert reqs.set_status(r.id, "draft").status is RequirementStatus.DRAFT
    assert reqs.set_status(r.id, "approved", force=True).status is RequirementStatus.APPROVED
    assert reqs.set_status(r.id, "planned").status is RequirementStatus.PLANNED
    assert reqs.set_status(r.id, "in_progress").status is RequirementStatus.IN_PROGRESS
    assert reqs.set_status(r.id, "done").status is RequirementStatus.DONE
    assert reqs.count_by_status()["done"] == 1


def test_materialize_is_idempotent_and_links_both_ways(
    hub: ServiceHub, reqs: RequirementService
) -> None:
    must = reqs.create(
        title="Must", priority="must", tags=["a"], acceptance_criteria=["one", "two"]
    )
    wont = reqs.create(title="Wont", priority="wont")
    dead = reqs.create(title="Dead")
    reqs.set_status(dead.id, "deprecated")
    first = reqs.materialize()
    assert first.requirements_considered == 1
    assert first.task_ids_created == ["TASK-001"]
    assert first.task_ids_reused == []
    task = hub.tasks.get("TASK-001")
    assert task.title == "Must"
    assert task.priority.value == "high"
    assert task.linked_requirements == [must.id]
    assert [i.description for i in task.checklist] == ["one", "two"]
    assert task.tags == ["a"]
    assert reqs.get(must.id).linked_task_ids == ["TASK-001"]
    assert reqs.get(must.id).links.tasks == ["TASK-001"]

    again = reqs.materialize([must.id, wont.id], include_wont=True)
    assert again.requirements_considered == 2
    assert again.task_ids_reused == ["TASK-001"]
    assert again.task_ids_created == ["TASK-002"]
    assert hub.tasks.list().total == 2
    third = reqs.materialize(include_wont=True)
    assert third.task_ids_created == []
    assert sorted(third.task_ids_reused) == ["TASK-001", "TASK-002"]

    # a deleted task is recreated; deleting a requirement unlinks its tasks
    hub.tasks.delete("TASK-001")
    assert reqs.materialize([must.id]).task_ids_created == ["TASK-003"]
    reqs.delete(must.id)
    assert hub.tasks.get("TASK-003").linked_requirements == []
    with pytest.raises(NotFoundError):
        reqs.materialize(["REQ-404"])
    assert (
        _rows(hub, "SELECT count(*) FROM history WHERE event_type='requirement.materialized'")[0][0]
        == 6
    )
