"""Human-readable ids: ``TASK-001``, ``REQ-042`` (three digits, growing past 999)."""

from __future__ import annotations

import re

from animus_protocol.envelope import InvalidInputError

__all__ = [
    "REQUIREMENT_PREFIX",
    "TASK_PREFIX",
    "format_id",
    "next_requirement_id",
    "next_task_id",
    "parse_id_number",
    "parse_requirement_number",
    "parse_task_number",
]

TASK_PREFIX = "TASK"
REQUIREMENT_PREFIX = "REQ"


def format_id(prefix: str, number: int) -> str:
    """``format_id("TASK", 7) == "TASK-007"``; numbers over 999 keep all their digits."""
    if number < 1:
        raise InvalidInputError(f"id numbers start at 1, got {number}")
    return f"{prefix}-{number:03d}"


def next_task_id(existing_max: int) -> str:
    """The id after the highest existing task number (0 when there are none)."""
    return format_id(TASK_PREFIX, max(existing_max, 0) + 1)


def next_requirement_id(existing_max: int) -> str:
    return format_id(REQUIREMENT_PREFIX, max(existing_max, 0) + 1)


def parse_id_number(prefix: str, value: str) -> int:
    """The number of ``<prefix>-<digits>`` (case-insensitive); raises InvalidInputError."""
    match = re.fullmatch(rf"{re.escape(prefix)}-(\d+)", value.strip(), flags=re.IGNORECASE)
    if match is None:
        raise InvalidInputError(
            f"invalid id {value!r}: expected {prefix}-<number>, e.g. {prefix}-001",
            details={"value": value},
        )
    return int(match.group(1))


def parse_task_number(value: str) -> int:
    """``parse_task_number("TASK-012") == 12``."""
    return parse_id_number(TASK_PREFIX, value)


def parse_requirement_number(value: str) -> int:
    return parse_id_number(REQUIREMENT_PREFIX, value)
