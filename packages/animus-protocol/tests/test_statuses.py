from __future__ import annotations

import inspect

import pytest
from pydantic import BaseModel, ValidationError

import animus_protocol
from animus_protocol import (
    AliasedEnum,
    DaemonStatus,
    InvalidInputError,
    Priority,
    RequirementPriority,
    RequirementStatus,
    TaskStatus,
    TaskType,
    Verdict,
    WorkflowMachineState,
    WorkflowStatus,
    parse_verdict,
)
from animus_protocol.control import ControlWorkflowStatus

TASK_ALIASES = {
    "backlog": TaskStatus.BACKLOG,
    "todo": TaskStatus.BACKLOG,
    "ready": TaskStatus.READY,
    "in-progress": TaskStatus.IN_PROGRESS,
    "in_progress": TaskStatus.IN_PROGRESS,
    "inprogress": TaskStatus.IN_PROGRESS,
    "blocked": TaskStatus.BLOCKED,
    "on-hold": TaskStatus.ON_HOLD,
    "on_hold": TaskStatus.ON_HOLD,
    "onhold": TaskStatus.ON_HOLD,
    "done": TaskStatus.DONE,
    "completed": TaskStatus.DONE,
    "cancelled": TaskStatus.CANCELLED,
}


@pytest.mark.parametrize(("raw", "expected"), sorted(TASK_ALIASES.items()))
def test_task_status_aliases_any_case(raw: str, expected: TaskStatus) -> None:
    assert TaskStatus.parse(raw) is expected
    assert TaskStatus.parse(raw.upper()) is expected
    assert TaskStatus.parse(f"  {raw.title()} ") is expected


def test_bad_value_message_lists_accepted_values() -> None:
    with pytest.raises(InvalidInputError) as info:
        TaskStatus.parse("finished")
    err = info.value
    assert err.exit_code == 2
    assert "'finished'" in err.message
    assert "task status" in err.message
    for value in ("backlog (todo)", "in-progress (in_progress, inprogress)", "on-hold", "done"):
        assert value in err.message
    assert err.details == {"value": "finished"}


def test_non_string_is_rejected_clearly() -> None:
    with pytest.raises(InvalidInputError, match="invalid priority 3"):
        Priority.parse(3)


def _all_enums() -> list[type[AliasedEnum]]:
    found = [
        obj
        for obj in vars(animus_protocol).values()
        if inspect.isclass(obj) and issubclass(obj, AliasedEnum) and obj is not AliasedEnum
    ]
    return [*found, ControlWorkflowStatus]


@pytest.mark.parametrize("enum", _all_enums(), ids=lambda e: e.__name__)
def test_every_enum_parses_its_values_and_spellings(enum: type[AliasedEnum]) -> None:
    for member in enum:
        assert enum.parse(member.value) is member
        assert enum.parse(member.value.upper()) is member
        assert enum.parse(member.value.replace("-", "_")) is member
        assert enum.parse(member.value.replace("_", "-")) is member
    for alias, canonical in enum.legacy_aliases().items():
        assert enum.parse(alias).value == canonical
    with pytest.raises(InvalidInputError, match="accepted: "):
        enum.parse("definitely-not-a-value")


def test_snake_canonical_enums_accept_kebab() -> None:
    assert WorkflowStatus.parse("Escalated") is WorkflowStatus.ESCALATED
    assert DaemonStatus.parse("STOPPING") is DaemonStatus.STOPPING
    assert str(WorkflowMachineState.parse("human_escalated")) == "human-escalated"


def test_requirement_priority_moscow() -> None:
    assert RequirementPriority.parse("Won't") is RequirementPriority.WONT
    assert RequirementPriority.parse("must-have") is RequirementPriority.MUST
    assert RequirementStatus.parse("PO_Review") is RequirementStatus.PO_REVIEW


def test_task_status_groups() -> None:
    assert {s for s in TaskStatus if s.is_terminal} == {TaskStatus.DONE, TaskStatus.CANCELLED}
    assert {s for s in TaskStatus if s.is_blocked_group} == {
        TaskStatus.BLOCKED,
        TaskStatus.ON_HOLD,
    }
    assert [s for s in TaskStatus if s.is_active] == [TaskStatus.IN_PROGRESS]
    assert {s for s in WorkflowStatus if s.is_terminal} == {
        WorkflowStatus.COMPLETED,
        WorkflowStatus.FAILED,
        WorkflowStatus.ESCALATED,
        WorkflowStatus.CANCELLED,
    }


def test_priority_rank_orders_most_urgent_first() -> None:
    ordered = sorted(
        [Priority.LOW, Priority.CRITICAL, Priority.MEDIUM, Priority.HIGH], key=lambda p: p.rank
    )
    assert ordered == [Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW]


def test_verdict_lenient_and_strict() -> None:
    assert parse_verdict("ADVANCE") is Verdict.ADVANCE
    assert parse_verdict("ship-it") is Verdict.UNKNOWN
    assert parse_verdict(None) is Verdict.UNKNOWN
    with pytest.raises(InvalidInputError):
        Verdict.parse("ship-it")


class _Holder(BaseModel):
    status: TaskStatus
    kind: TaskType


def test_models_accept_aliases_and_write_canonical() -> None:
    holder = _Holder.model_validate_json('{"status":"In_Progress","kind":"bug"}')
    assert holder.status is TaskStatus.IN_PROGRESS
    assert holder.model_dump(mode="json") == {"status": "in-progress", "kind": "bugfix"}
    with pytest.raises(ValidationError):
        _Holder.model_validate({"status": "nope", "kind": "feature"})


def test_control_workflow_status_maps_escalated_to_paused() -> None:
    assert ControlWorkflowStatus.from_workflow_status("escalated") is ControlWorkflowStatus.PAUSED
    for status in WorkflowStatus:
        if status is not WorkflowStatus.ESCALATED:
            assert ControlWorkflowStatus.from_workflow_status(status).value == status.value
