"""Validated status transitions for tasks and the requirement review lifecycle.

Task edges (spec §5.2): backlog→ready; ready→in-progress|backlog; in-progress→done|blocked|ready;
blocked→ready|cancelled; reopen done|cancelled→backlog. The spec leaves on-hold without edges;
this implementation adds backlog|ready|blocked→on-hold and on-hold→ready|backlog|cancelled.
Moving to the current status is an accepted no-op. Anything else raises ``ConflictError``
unless forced (projectors and ``--force`` bypass validation, never the field rules).

Requirement lifecycle (spec §5.3) is event driven; the fail edges consume the rework budget
(default 3 rounds) and are refused once it is spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from animus_protocol._aliased_enum import AliasedEnum
from animus_protocol.envelope import ConflictError
from animus_protocol.requirement import Requirement
from animus_protocol.statuses import RequirementStatus, TaskStatus
from animus_protocol.task import Task

__all__ = [
    "DEFAULT_REWORK_BUDGET",
    "REQUIREMENT_LIFECYCLE",
    "REQUIREMENT_TRANSITIONS",
    "TASK_TRANSITIONS",
    "RequirementEvent",
    "apply_requirement_event",
    "apply_requirement_status",
    "apply_task_status",
    "is_task_transition_allowed",
    "requirement_next_status",
    "validate_requirement_transition",
    "validate_task_transition",
]

_T = TaskStatus
TASK_TRANSITIONS: Mapping[TaskStatus, frozenset[TaskStatus]] = {
    _T.BACKLOG: frozenset({_T.READY, _T.ON_HOLD}),
    _T.READY: frozenset({_T.IN_PROGRESS, _T.BACKLOG, _T.ON_HOLD}),
    _T.IN_PROGRESS: frozenset({_T.DONE, _T.BLOCKED, _T.READY}),
    _T.BLOCKED: frozenset({_T.READY, _T.CANCELLED, _T.ON_HOLD}),
    _T.ON_HOLD: frozenset({_T.READY, _T.BACKLOG, _T.CANCELLED}),
    _T.DONE: frozenset({_T.BACKLOG}),
    _T.CANCELLED: frozenset({_T.BACKLOG}),
}


def is_task_transition_allowed(from_status: TaskStatus | str, to_status: TaskStatus | str) -> bool:
    src, dst = TaskStatus.parse(from_status), TaskStatus.parse(to_status)
    return src is dst or dst in TASK_TRANSITIONS[src]


def validate_task_transition(from_status: TaskStatus | str, to_status: TaskStatus | str) -> None:
    """Raise :class:`ConflictError` when ``from -> to`` is not an allowed edge."""
    src, dst = TaskStatus.parse(from_status), TaskStatus.parse(to_status)
    if src is dst or dst in TASK_TRANSITIONS[src]:
        return
    allowed = sorted(s.value for s in TASK_TRANSITIONS[src])
    raise ConflictError(
        f"cannot move a task from {src.value} to {dst.value}; "
        f"allowed from {src.value}: {', '.join(allowed)}",
        details={"from": src.value, "to": dst.value, "allowed": allowed},
        hint="pass --force to override the transition check",
    )


def apply_task_status(
    task: Task,
    to: TaskStatus | str,
    *,
    force: bool = False,
    reason: str | None = None,
    now: datetime,
    by: str | None = None,
) -> Task:
    """A copy of ``task`` moved to ``to`` with the field rules applied.

    Rules: entering ready clears ``paused`` and every ``blocked_*`` field; entering blocked
    (or on-hold) sets ``blocked_at`` and ``blocked_reason`` (when given); entering any status
    outside the blocked group clears ``blocked_*``; in-progress stamps ``started_at`` once;
    done stamps ``completed_at``; cancelled sets ``cancelled``; reopening to backlog clears
    ``cancelled`` and ``completed_at``; a reason on done/cancelled becomes ``resolution``.
    Every real change stamps ``status_changed_at`` and ``updated_at`` and bumps ``version``.
    Same status is a no-op (the task is returned unchanged).
    """
    dst = TaskStatus.parse(to)
    src = task.status
    if not force:
        validate_task_transition(src, dst)
    if src is dst:
        return task
    out = task.model_copy(deep=True)
    out.status = dst
    if not dst.is_blocked_group:
        out.blocked_at = None
        out.blocked_reason = None
        out.blocked_by = None
        out.blocked_phase = None
    else:
        out.blocked_at = now
        if reason is not None:
            out.blocked_reason = reason
    if dst is TaskStatus.READY:
        out.paused = False
    elif dst is TaskStatus.IN_PROGRESS:
        if out.metadata.started_at is None:
            out.metadata.started_at = now
    elif dst is TaskStatus.DONE:
        out.metadata.completed_at = now
        out.paused = False
        out.cancelled = False
    elif dst is TaskStatus.CANCELLED:
        out.cancelled = True
    elif dst is TaskStatus.BACKLOG:
        out.cancelled = False
        out.metadata.completed_at = None
    if reason is not None and dst.is_terminal:
        out.resolution = reason
    out.metadata.status_changed_at = now
    out.touch(now, by)
    return out


# ---------------------------------------------------------------------------- requirements

DEFAULT_REWORK_BUDGET = 3


class RequirementEvent(AliasedEnum):
    """Review lifecycle events; ``PoPass``, ``po_pass`` and ``po-pass`` all parse."""

    REFINE = "refine"
    SUBMIT_REVIEW = "submit-review"
    PO_PASS = "po-pass"  # noqa: S105 - a review outcome, not a password
    PO_FAIL = "po-fail"
    EM_PASS = "em-pass"  # noqa: S105 - a review outcome, not a password
    EM_FAIL = "em-fail"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {"request-review": "submit-review", "po-review": "submit-review"}


_R = RequirementStatus
_E = RequirementEvent
REQUIREMENT_LIFECYCLE: Mapping[tuple[RequirementStatus, RequirementEvent], RequirementStatus] = {
    (_R.DRAFT, _E.REFINE): _R.REFINED,
    (_R.REFINED, _E.REFINE): _R.REFINED,
    (_R.REFINED, _E.SUBMIT_REVIEW): _R.PO_REVIEW,
    (_R.PO_REVIEW, _E.REFINE): _R.REFINED,
    (_R.PO_REVIEW, _E.PO_PASS): _R.EM_REVIEW,
    (_R.PO_REVIEW, _E.PO_FAIL): _R.NEEDS_REWORK,
    (_R.EM_REVIEW, _E.REFINE): _R.REFINED,
    (_R.EM_REVIEW, _E.EM_PASS): _R.APPROVED,
    (_R.EM_REVIEW, _E.EM_FAIL): _R.NEEDS_REWORK,
    (_R.NEEDS_REWORK, _E.REFINE): _R.REFINED,
}
_FAIL_EVENTS = frozenset({_E.PO_FAIL, _E.EM_FAIL})

# Direct status edges (``subject status`` on a requirement): the lifecycle's edges plus the
# delivery path approved → planned → in-progress → implemented/done, deprecation from any
# non-terminal state, and reopening a finished requirement as a draft.
_REQ_DELIVERY: dict[RequirementStatus, set[RequirementStatus]] = {
    _R.APPROVED: {_R.PLANNED, _R.IN_PROGRESS},
    _R.PLANNED: {_R.IN_PROGRESS, _R.APPROVED},
    _R.IN_PROGRESS: {_R.DONE, _R.IMPLEMENTED, _R.PLANNED},
    _R.DONE: {_R.DRAFT},
    _R.IMPLEMENTED: {_R.DRAFT, _R.DONE},
    _R.DEPRECATED: {_R.DRAFT},
}


def _requirement_edges() -> Mapping[RequirementStatus, frozenset[RequirementStatus]]:
    edges: dict[RequirementStatus, set[RequirementStatus]] = {s: set() for s in _R}
    for (src, _event), dst in REQUIREMENT_LIFECYCLE.items():
        edges[src].add(dst)
    for src, dsts in _REQ_DELIVERY.items():
        edges[src] |= dsts
    for src in _R:
        if not src.is_terminal:
            edges[src].add(_R.DEPRECATED)
    return {src: frozenset(dsts) for src, dsts in edges.items()}


REQUIREMENT_TRANSITIONS = _requirement_edges()


def requirement_next_status(
    status: RequirementStatus | str,
    event: RequirementEvent | str,
    *,
    rework_count: int = 0,
    budget: int = DEFAULT_REWORK_BUDGET,
) -> RequirementStatus:
    """The state ``event`` leads to from ``status``; raises :class:`ConflictError`.

    A fail event needs ``rework_count < budget`` (the ``rework_budget_available`` guard).
    """
    src, ev = RequirementStatus.parse(status), RequirementEvent.parse(event)
    dst = REQUIREMENT_LIFECYCLE.get((src, ev))
    if dst is None:
        accepted = sorted(e.value for (s, e) in REQUIREMENT_LIFECYCLE if s is src)
        raise ConflictError(
            f"requirement event {ev.value} does not apply in status {src.value}; "
            f"accepted here: {', '.join(accepted) or 'none'}",
            details={"status": src.value, "event": ev.value, "accepted": accepted},
        )
    if ev in _FAIL_EVENTS and rework_count >= budget:
        raise ConflictError(
            f"rework budget exhausted ({rework_count} of {budget} rounds used); "
            f"cannot send the requirement back for rework",
            details={
                "status": src.value,
                "event": ev.value,
                "rework_count": rework_count,
                "budget": budget,
            },
            hint="approve, refine or deprecate the requirement, or raise the rework budget",
        )
    return dst


def apply_requirement_event(
    requirement: Requirement,
    event: RequirementEvent | str,
    *,
    now: datetime,
    budget: int = DEFAULT_REWORK_BUDGET,
) -> Requirement:
    """A copy advanced by ``event``; fail events count one rework round."""
    ev = RequirementEvent.parse(event)
    dst = requirement_next_status(
        requirement.status, ev, rework_count=requirement.rework_count, budget=budget
    )
    out = requirement.model_copy(deep=True)
    out.status = dst
    if ev in _FAIL_EVENTS:
        out.rework_count += 1
    out.updated_at = now
    return out


def validate_requirement_transition(
    from_status: RequirementStatus | str, to_status: RequirementStatus | str
) -> None:
    """Raise :class:`ConflictError` unless ``from -> to`` is a direct status edge."""
    src, dst = RequirementStatus.parse(from_status), RequirementStatus.parse(to_status)
    if src is dst or dst in REQUIREMENT_TRANSITIONS[src]:
        return
    allowed = sorted(s.value for s in REQUIREMENT_TRANSITIONS[src])
    raise ConflictError(
        f"cannot move a requirement from {src.value} to {dst.value}; "
        f"allowed from {src.value}: {', '.join(allowed)}",
        details={"from": src.value, "to": dst.value, "allowed": allowed},
        hint="pass --force to override the transition check",
    )


def apply_requirement_status(
    requirement: Requirement,
    to: RequirementStatus | str,
    *,
    force: bool = False,
    now: datetime,
) -> Requirement:
    """A copy moved to ``to`` (validated unless forced); same status is a no-op."""
    dst = RequirementStatus.parse(to)
    if not force:
        validate_requirement_transition(requirement.status, dst)
    if dst is requirement.status:
        return requirement
    out = requirement.model_copy(deep=True)
    out.status = dst
    if dst is RequirementStatus.DRAFT:
        out.rework_count = 0
    out.updated_at = now
    return out
