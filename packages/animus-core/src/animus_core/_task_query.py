"""Task list filters, pages and the SQL that serves them off the summary columns."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from animus_core._task_rows import parse_task
from animus_protocol.envelope import InvalidInputError
from animus_protocol.statuses import Priority, TaskStatus, TaskType
from animus_protocol.task import Task

__all__ = ["TASK_SORTS", "TaskFilter", "TaskPage", "query_tasks"]

TaskSort = Literal["priority", "created", "updated", "id"]
# Every order ends with the id number, so pages are stable.
TASK_SORTS: dict[str, str] = {
    "priority": "priority_rank ASC, number ASC",
    "created": "created_at ASC, number ASC",
    "updated": "updated_at DESC, number DESC",
    "id": "number ASC",
}
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class TaskFilter:
    """Criteria AND together; within one criterion any listed value matches, except
    ``tags``, where a task must carry every tag listed. ``search`` matches id, title or
    description (case-insensitive substring). ``assignee`` is a user id, ``agent:<role>``
    or ``unassigned``."""

    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    task_type: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    search: str | None = None
    assignee: str | None = None
    limit: int = 50
    offset: int = 0
    sort: TaskSort = "priority"


class TaskPage(BaseModel):
    items: list[Task]
    total: int
    limit: int
    offset: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(flt: TaskFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []

    def any_of(column: str, values: list[str]) -> None:
        clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
        args.extend(values)

    if flt.status:
        any_of("status", sorted({TaskStatus.parse(s).value for s in flt.status}))
    if flt.priority:
        any_of("priority", sorted({Priority.parse(p).value for p in flt.priority}))
    if flt.task_type:
        any_of("task_type", sorted({TaskType.parse(t).value for t in flt.task_type}))
    for tag in dict.fromkeys(t.strip() for t in flt.tags if t.strip()):
        clauses.append(
            "EXISTS (SELECT 1 FROM task_tags g WHERE g.task_id = tasks.id AND g.tag = ?)"
        )
        args.append(tag)
    if flt.assignee is not None:
        if flt.assignee.strip().lower() in ("", "unassigned", "none"):
            clauses.append("assignee IS NULL")
        else:
            clauses.append("assignee = ?")
            args.append(flt.assignee.strip())
    if flt.search:
        pattern = f"%{_escape_like(flt.search.strip())}%"
        clauses.append(
            "(id LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\' "
            "OR json_extract(json, '$.description') LIKE ? ESCAPE '\\')"
        )
        args.extend([pattern, pattern, pattern])
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def query_tasks(conn: sqlite3.Connection, flt: TaskFilter) -> TaskPage:
    if flt.sort not in TASK_SORTS:
        raise InvalidInputError(
            f"unknown sort {flt.sort!r}",
            details={"sort": flt.sort, "accepted": sorted(TASK_SORTS)},
            hint=f"use one of: {', '.join(TASK_SORTS)}",
        )
    if not 0 <= flt.limit <= MAX_LIMIT:
        raise InvalidInputError(
            f"limit must be between 0 and {MAX_LIMIT}, got {flt.limit}",
            hint="page through long lists with --limit and --offset",
        )
    if flt.offset < 0:
        raise InvalidInputError(f"offset must be 0 or more, got {flt.offset}")
    where, args = _where(flt)
    total = int(conn.execute(f"SELECT COUNT(*) FROM tasks{where}", args).fetchone()[0])  # noqa: S608 - built from fixed fragments
    rows = conn.execute(
        f"SELECT json FROM tasks{where} ORDER BY {TASK_SORTS[flt.sort]} LIMIT ? OFFSET ?",  # noqa: S608 - built from fixed fragments
        [*args, flt.limit, flt.offset],
    ).fetchall()
    return TaskPage(
        items=[parse_task(r[0]) for r in rows], total=total, limit=flt.limit, offset=flt.offset
    )
