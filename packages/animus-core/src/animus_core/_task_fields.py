"""Field rules of the task service: what ``update`` may change and how loose input parses."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import ValidationError

from animus_protocol.envelope import InvalidInputError
from animus_protocol.statuses import Complexity, Priority, Risk, Scope, TaskType
from animus_protocol.task import AgentAssignee, HumanAssignee, Unassigned
from animus_protocol.timeutil import parse_rfc3339

__all__ = [
    "ENUM_FIELDS",
    "UPDATABLE_FIELDS",
    "assignee_value",
    "clean_tags",
    "invalid_field",
    "parse_deadline",
]

UPDATABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "priority",
        "task_type",
        "tags",
        "risk",
        "scope",
        "complexity",
        "deadline",
        "assignee",
        "impact_area",
        "estimated_effort",
        "linked_requirements",
        "linked_architecture_entities",
        "worktree_path",
        "branch_name",
        "resource_requirements",
        "workflow_metadata",
    }
)

ENUM_FIELDS: dict[str, type[Priority | TaskType | Risk | Scope | Complexity]] = {
    "priority": Priority,
    "task_type": TaskType,
    "risk": Risk,
    "scope": Scope,
    "complexity": Complexity,
}


def invalid_field(exc: ValidationError) -> InvalidInputError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "value"
    return InvalidInputError(
        f"invalid {field}: {first.get('msg', 'invalid value')}",
        details={"field": field, "errors": [str(e.get("msg")) for e in exc.errors()]},
        hint="check the value against 'animus task create --help'",
    )


def clean_tags(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))


def parse_deadline(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    text = value.strip()
    if not text or text.lower() in ("none", "clear"):
        return None
    if len(text) == 10:  # a bare date means the end of that day, UTC
        text = f"{text}T23:59:59Z"
    return parse_rfc3339(text)


def assignee_value(
    assignee: str | None, *, assignee_type: str = "human", model: str | None = None
) -> AgentAssignee | HumanAssignee | Unassigned:
    if assignee is None or assignee.strip().lower() in ("", "unassigned", "none"):
        return Unassigned()
    name = assignee.strip()
    kind = assignee_type.strip().lower()
    if name.startswith("agent:"):
        kind, name = "agent", name[len("agent:") :]
    if kind == "agent":
        return AgentAssignee(role=name, model=model)
    if kind == "human":
        return HumanAssignee(user_id=name)
    raise InvalidInputError(
        f"unknown assignee type {assignee_type!r}", hint="use --type human or --type agent"
    )
