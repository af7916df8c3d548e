"""Requirement rows: the JSON body, its summary columns and ``requirement_tags``; queries."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from animus_core._task_rows import parse_record
from animus_protocol.envelope import InvalidInputError, NotFoundError
from animus_protocol.ids import REQUIREMENT_PREFIX, format_id
from animus_protocol.requirement import Requirement
from animus_protocol.statuses import RequirementPriority, RequirementStatus, RequirementType
from animus_protocol.timeutil import format_rfc3339
from animus_store.schema import requirement_priority_rank

__all__ = [
    "RequirementFilter",
    "RequirementPage",
    "canonical_requirement_id",
    "delete_requirement_row",
    "load_requirement",
    "query_requirements",
    "save_requirement",
]

_REQ_ID = re.compile(rf"{REQUIREMENT_PREFIX}-(\d+)", re.IGNORECASE)
RequirementSort = Literal["priority", "created", "updated", "id"]
_SORTS = {
    "priority": "priority_rank ASC, number ASC",
    "created": "created_at ASC, number ASC",
    "updated": "updated_at DESC, number DESC",
    "id": "number ASC",
}
_MAX_LIMIT = 10_000


def canonical_requirement_id(requirement_id: str) -> str:
    """``req-3`` becomes ``REQ-003``; other spellings pass through trimmed."""
    text = requirement_id.strip()
    if not text:
        raise InvalidInputError(
            "a requirement id is required", hint="list ids with: animus requirement list"
        )
    match = _REQ_ID.fullmatch(text)
    if match is None or int(match.group(1)) < 1:
        return text
    return format_id(REQUIREMENT_PREFIX, int(match.group(1)))


def save_requirement(conn: sqlite3.Connection, req: Requirement) -> None:
    match = _REQ_ID.fullmatch(req.id)
    conn.execute(
        "INSERT OR REPLACE INTO requirements(id, number, status, title, priority, "
        "priority_rank, category, requirement_type, created_at, updated_at, json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            req.id,
            int(match.group(1)) if match else None,
            req.status.value,
            req.title,
            req.priority.value,
            requirement_priority_rank(req.priority.value),
            req.category,
            req.requirement_type.value,
            format_rfc3339(req.created_at),
            format_rfc3339(req.updated_at),
            req.to_json(),
        ),
    )
    conn.execute("DELETE FROM requirement_tags WHERE requirement_id = ?", (req.id,))
    conn.executemany(
        "INSERT OR IGNORE INTO requirement_tags(requirement_id, tag) VALUES (?, ?)",
        [(req.id, tag) for tag in req.tags],
    )


def load_requirement(conn: sqlite3.Connection, requirement_id: str) -> Requirement:
    row = conn.execute("SELECT json FROM requirements WHERE id = ?", (requirement_id,)).fetchone()
    if row is None:
        raise NotFoundError(
            f"requirement {requirement_id} not found",
            details={"requirement_id": requirement_id},
            hint="list existing requirements with: animus requirement list",
        )
    return parse_record(Requirement, row[0], requirement_id)


def delete_requirement_row(conn: sqlite3.Connection, requirement_id: str) -> None:
    conn.execute("DELETE FROM requirement_tags WHERE requirement_id = ?", (requirement_id,))
    conn.execute("DELETE FROM requirements WHERE id = ?", (requirement_id,))


@dataclass(frozen=True)
class RequirementFilter:
    """Criteria AND together; any listed value matches, except ``tags`` (all must match)."""

    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    requirement_type: tuple[str, ...] = ()
    category: str | None = None
    tags: tuple[str, ...] = ()
    search: str | None = None
    limit: int = 50
    offset: int = 0
    sort: RequirementSort = "priority"


class RequirementPage(BaseModel):
    items: list[Requirement]
    total: int
    limit: int
    offset: int


def _where(flt: RequirementFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []

    def any_of(column: str, values: list[str]) -> None:
        clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
        args.extend(values)

    if flt.status:
        any_of("status", sorted({RequirementStatus.parse(s).value for s in flt.status}))
    if flt.priority:
        any_of("priority", sorted({RequirementPriority.parse(p).value for p in flt.priority}))
    if flt.requirement_type:
        any_of(
            "requirement_type",
            sorted({RequirementType.parse(t).value for t in flt.requirement_type}),
        )
    if flt.category:
        clauses.append("category = ?")
        args.append(flt.category)
    for tag in dict.fromkeys(t.strip() for t in flt.tags if t.strip()):
        clauses.append(
            "EXISTS (SELECT 1 FROM requirement_tags g "
            "WHERE g.requirement_id = requirements.id AND g.tag = ?)"
        )
        args.append(tag)
    if flt.search:
        text = flt.search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{text}%"
        clauses.append(
            "(id LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\' "
            "OR json_extract(json, '$.description') LIKE ? ESCAPE '\\')"
        )
        args.extend([pattern, pattern, pattern])
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def query_requirements(conn: sqlite3.Connection, flt: RequirementFilter) -> RequirementPage:
    if flt.sort not in _SORTS:
        raise InvalidInputError(
            f"unknown sort {flt.sort!r}",
            details={"sort": flt.sort, "accepted": sorted(_SORTS)},
            hint=f"use one of: {', '.join(_SORTS)}",
        )
    if not 0 <= flt.limit <= _MAX_LIMIT:
        raise InvalidInputError(
            f"limit must be between 0 and {_MAX_LIMIT}, got {flt.limit}",
            hint="page through long lists with --limit and --offset",
        )
    if flt.offset < 0:
        raise InvalidInputError(f"offset must be 0 or more, got {flt.offset}")
    where, args = _where(flt)
    total = int(conn.execute(f"SELECT COUNT(*) FROM requirements{where}", args).fetchone()[0])  # noqa: S608 - fixed fragments and placeholders
    rows = conn.execute(
        f"SELECT json FROM requirements{where} ORDER BY {_SORTS[flt.sort]} LIMIT ? OFFSET ?",  # noqa: S608 - fixed fragments and placeholders
        [*args, flt.limit, flt.offset],
    ).fetchall()
    return RequirementPage(
        items=[parse_record(Requirement, r[0], "a requirement") for r in rows],
        total=total,
        limit=flt.limit,
        offset=flt.offset,
    )
