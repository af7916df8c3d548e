"""Reading and writing task rows: the JSON body plus its summary columns and side tables.

The ``json`` column is the task; the summary columns (status, priority rank, type, assignee,
timestamps) and the ``task_tags`` / ``task_dependencies`` tables are rewritten from it on
every save, inside the caller's transaction, so they can never drift apart.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TypeVar

from pydantic import BaseModel

from animus_protocol.envelope import InternalError, InvalidInputError, NotFoundError
from animus_protocol.ids import TASK_PREFIX, format_id
from animus_protocol.task import AgentAssignee, HumanAssignee, Task
from animus_protocol.timeutil import format_rfc3339
from animus_store.schema import task_priority_rank

__all__ = [
    "CorruptRecordError",
    "assignee_label",
    "canonical_task_id",
    "delete_task_row",
    "load_task",
    "load_tasks",
    "parse_record",
    "parse_task",
    "save_task",
    "task_number",
]


class CorruptRecordError(InternalError):
    """A stored record no longer parses; it is left untouched in ``workflow.db``."""

    default_code = "corrupt_state"


M = TypeVar("M", bound=BaseModel)


def parse_record(model: type[M], text: str, what: str) -> M:
    """Validate a stored JSON body; a bad one raises :class:`CorruptRecordError`."""
    try:
        return model.model_validate_json(text)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise CorruptRecordError(
            f"{what} in workflow.db cannot be read: {str(exc).splitlines()[0]}",
            details={"record": what},
            hint="the row is left as it is; restore it from a backup or delete it with "
            "sqlite3 after inspecting it",
        ) from None


def parse_task(text: str, task_id: str = "a task") -> Task:
    return parse_record(Task, text, task_id)


_TASK_ID = re.compile(rf"{TASK_PREFIX}-(\d+)", re.IGNORECASE)


def canonical_task_id(task_id: str) -> str:
    """``task-7`` and ``TASK-7`` become ``TASK-007``; other spellings pass through trimmed."""
    text = task_id.strip()
    if not text:
        raise InvalidInputError("a task id is required", hint="list ids with: animus task list")
    match = _TASK_ID.fullmatch(text)
    if match is None or int(match.group(1)) < 1:
        return text
    return format_id(TASK_PREFIX, int(match.group(1)))


def task_number(task_id: str) -> int | None:
    match = _TASK_ID.fullmatch(task_id)
    return int(match.group(1)) if match else None


def assignee_label(task: Task) -> str | None:
    """The assignee as one string: a human's user id, ``agent:<role>``, or None."""
    who = task.assignee
    if isinstance(who, HumanAssignee):
        return who.user_id
    if isinstance(who, AgentAssignee):
        return f"agent:{who.role}"
    return None


def _ts(value: object) -> str | None:
    from datetime import datetime

    return format_rfc3339(value) if isinstance(value, datetime) else None


def save_task(conn: sqlite3.Connection, task: Task) -> None:
    """Insert or replace the task row and rewrite its tags and dependency edges."""
    conn.execute(
        "INSERT OR REPLACE INTO tasks(id, number, status, title, priority, priority_rank, "
        "task_type, assignee, created_at, updated_at, completed_at, blocked_reason, "
        "blocked_at, deadline, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            task.id,
            task_number(task.id),
            task.status.value,
            task.title,
            task.priority.value,
            task_priority_rank(task.priority.value),
            task.task_type.value,
            assignee_label(task),
            _ts(task.metadata.created_at),
            _ts(task.metadata.updated_at),
            _ts(task.metadata.completed_at),
            task.blocked_reason,
            _ts(task.blocked_at),
            _ts(task.deadline),
            task.to_json(),
        ),
    )
    conn.execute("DELETE FROM task_tags WHERE task_id = ?", (task.id,))
    conn.executemany(
        "INSERT OR IGNORE INTO task_tags(task_id, tag) VALUES (?, ?)",
        [(task.id, tag) for tag in task.tags],
    )
    conn.execute("DELETE FROM task_dependencies WHERE task_id = ?", (task.id,))
    conn.executemany(
        "INSERT OR IGNORE INTO task_dependencies(task_id, depends_on, dependency_type) "
        "VALUES (?, ?, ?)",
        [(task.id, d.task_id, d.dependency_type.value) for d in task.dependencies],
    )


def load_task(conn: sqlite3.Connection, task_id: str) -> Task:
    row = conn.execute("SELECT json FROM tasks WHERE id = ?", (task_id,)).fetchone()
    if row is None:
        raise NotFoundError(
            f"task {task_id} not found",
            details={"task_id": task_id},
            hint="list existing tasks with: animus task list",
        )
    return parse_task(row[0], task_id)


def load_tasks(conn: sqlite3.Connection, task_ids: list[str]) -> dict[str, Task]:
    """The existing tasks among ``task_ids`` (missing ids are simply absent)."""
    found: dict[str, Task] = {}
    for start in range(0, len(task_ids), 500):
        chunk = task_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for (text,) in conn.execute(f"SELECT json FROM tasks WHERE id IN ({marks})", chunk):  # noqa: S608 - placeholders only
            task = parse_task(text)
            found[task.id] = task
    return found


def delete_task_row(conn: sqlite3.Connection, task_id: str) -> None:
    # Side tables cascade only with foreign_keys on; delete explicitly to be independent of it.
    conn.execute("DELETE FROM task_tags WHERE task_id = ?", (task_id,))
    conn.execute("DELETE FROM task_dependencies WHERE task_id = ?", (task_id,))
    conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
