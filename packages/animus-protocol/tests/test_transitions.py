from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from animus_protocol import (
    DEFAULT_REWORK_BUDGET,
    ConflictError,
    InvalidInputError,
    Requirement,
    RequirementEvent,
    RequirementStatus,
    Task,
    TaskStatus,
    apply_requirement_event,
    apply_requirement_status,
    apply_task_status,
    is_task_transition_allowed,
    requirement_next_status,
    validate_requirement_transition,
    validate_task_transition,
)

T = TaskStatus
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)

# The edges of spec §5.2 plus the documented on-hold extension.
ALLOWED = {
    (T.BACKLOG, T.READY),
    (T.READY, T.IN_PROGRESS),
    (T.READY, T.BACKLOG),
    (T.IN_PROGRESS, T.DONE),
    (T.IN_PROGRESS, T.BLOCKED),
    (T.IN_PROGRESS, T.READY),
    (T.BLOCKED, T.READY),
    (T.BLOCKED, T.CANCELLED),
    (T.DONE, T.BACKLOG),
    (T.CANCELLED, T.BACKLOG),
    (T.BACKLOG, T.ON_HOLD),
    (T.READY, T.ON_HOLD),
    (T.BLOCKED, T.ON_HOLD),
    (T.ON_HOLD, T.READY),
    (T.ON_HOLD, T.BACKLOG),
    (T.ON_HOLD, T.CANCELLED),
}


def _task(status: TaskStatus = T.BACKLOG, **kw: object) -> Task:
    return Task.model_validate({"id": "TASK-001", "title": "t", "status": status, **kw})


@pytest.mark.parametrize(("src", "dst"), sorted(ALLOWED))
def test_allowed_edges(src: TaskStatus, dst: TaskStatus) -> None:
    validate_task_transition(src, dst)
    moved = apply_task_status(_task(src), dst, now=NOW)
    assert moved.status is dst
    assert moved.metadata.status_changed_at == NOW


DISALLOWED = sorted(
    (a, b) for a, b in itertools.product(T, T) if a is not b and (a, b) not in ALLOWED
)


@pytest.mark.parametrize(("src", "dst"), DISALLOWED)
def test_disallowed_edges_conflict_with_force_hint(src: TaskStatus, dst: TaskStatus) -> None:
    assert not is_task_transition_allowed(src, dst)
    with pytest.raises(ConflictError) as info:
        apply_task_status(_task(src), dst, now=NOW)
    err = info.value
    assert err.exit_code == 4
    assert err.hint is not None
    assert "--force" in err.hint
    assert err.details["from"] == src.value
    assert err.details["to"] == dst.value


def test_spot_disallowed_edges_named_in_message() -> None:
    with pytest.raises(ConflictError, match="from backlog to done; allowed from backlog"):
        validate_task_transition("todo", "completed")
    with pytest.raises(ConflictError):
        validate_task_transition("done", "in-progress")


def test_force_bypasses_validation_but_applies_rules() -> None:
    task = _task(T.BACKLOG)
    done = apply_task_status(task, T.DONE, force=True, now=NOW)
    assert done.status is T.DONE
    assert done.metadata.completed_at == NOW


def test_same_status_is_a_noop() -> None:
    task = _task(T.READY)
    validate_task_transition("ready", "READY")
    assert apply_task_status(task, "ready", now=NOW) is task


def test_bad_status_value_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="accepted"):
        apply_task_status(_task(), "shipped", now=NOW)


def test_entering_blocked_then_ready_sets_and_clears_fields() -> None:
    running = apply_task_status(_task(T.READY), T.IN_PROGRESS, now=NOW, by="alice")
    assert running.metadata.started_at == NOW
    assert running.metadata.updated_by == "alice"
    blocked = apply_task_status(running, T.BLOCKED, reason="tests fail", now=LATER)
    assert blocked.blocked_reason == "tests fail"
    assert blocked.blocked_at == LATER
    blocked.blocked_by = "WF-1"
    blocked.paused = True
    ready = apply_task_status(blocked, T.READY, now=LATER)
    assert ready.paused is False
    assert ready.blocked_reason is None
    assert ready.blocked_at is None
    assert ready.blocked_by is None
    # The input is never mutated.
    assert blocked.status is T.BLOCKED
    assert blocked.blocked_reason == "tests fail"


def test_version_and_timestamps_advance() -> None:
    task = _task(T.BACKLOG)
    before = task.metadata.version
    ready = apply_task_status(task, T.READY, now=LATER)
    assert ready.metadata.version == before + 1
    assert ready.metadata.updated_at == LATER
    started = apply_task_status(ready, T.IN_PROGRESS, now=LATER)
    again = apply_task_status(
        apply_task_status(started, T.READY, now=LATER), T.IN_PROGRESS, now=NOW
    )
    assert again.metadata.started_at == LATER  # stamped once


def test_done_and_reopen() -> None:
    running = _task(T.IN_PROGRESS)
    done = apply_task_status(running, T.DONE, reason="merged", now=NOW)
    assert done.metadata.completed_at == NOW
    assert done.resolution == "merged"
    reopened = apply_task_status(done, T.BACKLOG, now=LATER)
    assert reopened.metadata.completed_at is None
    assert reopened.status is T.BACKLOG


def test_cancel_sets_flag_and_reopen_clears_it() -> None:
    cancelled = apply_task_status(_task(T.BLOCKED, blocked_reason="x"), T.CANCELLED, now=NOW)
    assert cancelled.cancelled is True
    assert cancelled.blocked_reason is None
    assert apply_task_status(cancelled, T.BACKLOG, now=NOW).cancelled is False


def test_on_hold_keeps_blocked_annotation() -> None:
    held = apply_task_status(_task(T.READY), T.ON_HOLD, reason="waiting on design", now=NOW)
    assert held.blocked_reason == "waiting on design"
    assert held.blocked_at == NOW


# ----------------------------------------------------------------------- requirements

R = RequirementStatus
E = RequirementEvent


def _req(status: RequirementStatus = R.DRAFT, rework_count: int = 0) -> Requirement:
    return Requirement(id="REQ-001", title="r", status=status, rework_count=rework_count)


@pytest.mark.parametrize(
    ("src", "event", "dst"),
    [
        (R.DRAFT, "Refine", R.REFINED),
        (R.REFINED, "refine", R.REFINED),
        (R.REFINED, "submit-review", R.PO_REVIEW),
        (R.PO_REVIEW, "Refine", R.REFINED),
        (R.PO_REVIEW, "PoPass", R.EM_REVIEW),
        (R.PO_REVIEW, "po_fail", R.NEEDS_REWORK),
        (R.EM_REVIEW, "refine", R.REFINED),
        (R.EM_REVIEW, "EmPass", R.APPROVED),
        (R.EM_REVIEW, "EM-FAIL", R.NEEDS_REWORK),
        (R.NEEDS_REWORK, "refine", R.REFINED),
    ],
)
def test_requirement_lifecycle_edges(
    src: RequirementStatus, event: str, dst: RequirementStatus
) -> None:
    assert requirement_next_status(src, event) is dst


def test_requirement_event_not_applicable() -> None:
    with pytest.raises(ConflictError, match="accepted here: refine"):
        requirement_next_status(R.DRAFT, E.PO_PASS)
    with pytest.raises(ConflictError, match="accepted here: none"):
        requirement_next_status(R.APPROVED, E.REFINE)
    with pytest.raises(InvalidInputError):
        requirement_next_status(R.DRAFT, "celebrate")


def test_rework_budget_counts_and_exhausts() -> None:
    req = apply_requirement_event(_req(), E.REFINE, now=NOW)
    for round_ in range(DEFAULT_REWORK_BUDGET):
        req = apply_requirement_event(req, E.SUBMIT_REVIEW, now=NOW)
        event = E.PO_FAIL if round_ % 2 == 0 else E.EM_FAIL
        if event is E.EM_FAIL:
            req = apply_requirement_event(req, E.PO_PASS, now=NOW)
        req = apply_requirement_event(req, event, now=NOW)
        assert req.status is R.NEEDS_REWORK
        assert req.rework_count == round_ + 1
        req = apply_requirement_event(req, E.REFINE, now=NOW)
    req = apply_requirement_event(req, E.SUBMIT_REVIEW, now=LATER)
    with pytest.raises(ConflictError, match="rework budget exhausted") as info:
        apply_requirement_event(req, E.PO_FAIL, now=LATER)
    assert info.value.details["budget"] == DEFAULT_REWORK_BUDGET
    # Passing still works once the budget is spent.
    passed = apply_requirement_event(req, E.PO_PASS, now=LATER)
    assert passed.status is R.EM_REVIEW
    assert passed.updated_at == LATER


def test_custom_budget() -> None:
    with pytest.raises(ConflictError):
        requirement_next_status(R.PO_REVIEW, E.PO_FAIL, rework_count=1, budget=1)
    assert requirement_next_status(R.PO_REVIEW, E.PO_FAIL, rework_count=0, budget=1) is (
        R.NEEDS_REWORK
    )


def test_requirement_direct_status_edges() -> None:
    validate_requirement_transition("approved", "planned")
    validate_requirement_transition("in_progress", "implemented")
    validate_requirement_transition("draft", "deprecated")
    with pytest.raises(ConflictError, match="--force") as info:
        validate_requirement_transition("draft", "approved")
    assert info.value.hint is not None
    with pytest.raises(ConflictError):
        validate_requirement_transition("deprecated", "approved")
    forced = apply_requirement_status(_req(R.DRAFT), "approved", force=True, now=NOW)
    assert forced.status is R.APPROVED
    reopened = apply_requirement_status(_req(R.DEPRECATED, rework_count=3), "draft", now=NOW)
    assert reopened.rework_count == 0
