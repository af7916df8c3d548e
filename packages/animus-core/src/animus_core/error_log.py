"""Recorded errors on ``workflow.db``: what failed, in which category, for which task or run."""

from __future__ import annotations

import builtins
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from animus_core._runs_retention import CleanupReport, check_paging, cleanup_older_than
from animus_protocol.envelope import InvalidInputError, NotFoundError
from animus_protocol.timeutil import utc_now_str

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = ["ERROR_SEVERITIES", "ErrorLog", "ErrorPage", "ErrorRecord", "ErrorStats"]

ERROR_SEVERITIES = ("critical", "error", "warning", "info")
_COLUMNS = "id, ts, category, severity, task_id, workflow_id, message, resolved_at, json"


def _body(text: str) -> dict[str, Any]:
    """The JSON body of a row; an unreadable one is kept visible rather than failing a list."""
    try:
        body = json.loads(text)
    except ValueError:
        return {"unreadable_json": text[:500]}
    return body if isinstance(body, dict) else {"unreadable_json": text[:500]}


class ErrorRecord(BaseModel):
    id: int
    ts: str
    category: str
    severity: str
    message: str
    task_id: str | None = None
    workflow_id: str | None = None
    resolved_at: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Any) -> ErrorRecord:
        body = _body(row["json"])
        return cls(
            id=row["id"],
            ts=row["ts"],
            category=row["category"],
            severity=row["severity"],
            message=row["message"],
            task_id=row["task_id"],
            workflow_id=row["workflow_id"],
            resolved_at=row["resolved_at"],
            details=body.get("details") or {},
        )


class ErrorPage(BaseModel):
    errors: builtins.list[ErrorRecord]
    total: int
    limit: int
    offset: int


class ErrorStats(BaseModel):
    total: int = 0
    unresolved: int = 0
    by_category: dict[str, int] = Field(default_factory=dict)
    by_severity: dict[str, int] = Field(default_factory=dict)


def _severity(value: str) -> str:
    severity = value.strip().lower()
    if severity not in ERROR_SEVERITIES:
        raise InvalidInputError(
            f"invalid severity {value!r}; accepted: {', '.join(ERROR_SEVERITIES)}",
            details={"value": value},
            hint="use one of: " + ", ".join(ERROR_SEVERITIES),
        )
    return severity


class ErrorLog:
    """Recorded errors of one project (``hub.errors``)."""

    def __init__(self, hub: ServiceHub) -> None:
        self.hub = hub

    def record(
        self,
        category: str,
        message: str,
        severity: str = "error",
        *,
        task_id: str | None = None,
        workflow_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> ErrorRecord:
        if not category.strip():
            raise InvalidInputError("error category is empty", hint="e.g. dispatch or runner")
        level = _severity(severity)
        stamp = utc_now_str()
        with self.hub.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO errors(ts, category, severity, task_id, workflow_id, message, json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    stamp,
                    category,
                    level,
                    task_id,
                    workflow_id,
                    message,
                    json.dumps({"details": details or {}}, default=str),
                ),
            )
            row_id = int(cursor.lastrowid or 0)
        return ErrorRecord(
            id=row_id,
            ts=stamp,
            category=category,
            severity=level,
            message=message,
            task_id=task_id,
            workflow_id=workflow_id,
            details=details or {},
        )

    def get(self, error_id: int) -> ErrorRecord:
        with self.hub.db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM errors WHERE id = ?",  # noqa: S608 - constant columns
                (error_id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(
                f"error record {error_id} not found",
                details={"id": error_id},
                hint="list recorded errors with 'animus history errors'",
            )
        return ErrorRecord.from_row(row)

    def list(
        self,
        *,
        category: str | None = None,
        severity: str | None = None,
        task_id: str | None = None,
        workflow_id: str | None = None,
        unresolved_only: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> ErrorPage:
        check_paging(limit, offset)
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        for column, value in (
            ("category", category),
            ("severity", _severity(severity) if severity is not None else None),
            ("task_id", task_id),
            ("workflow_id", workflow_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if unresolved_only:
            clauses.append("resolved_at IS NULL")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.hub.db.read() as conn:
            total = int(
                conn.execute(
                    f"SELECT count(*) FROM errors {where}",  # noqa: S608 - fixed clauses
                    params,
                ).fetchone()[0]
            )
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM errors {where} "  # noqa: S608 - fixed clauses
                "ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return ErrorPage(
            errors=[ErrorRecord.from_row(r) for r in rows], total=total, limit=limit, offset=offset
        )

    def resolve(self, error_id: int) -> ErrorRecord:
        with self.hub.db.transaction() as conn:
            changed = conn.execute(
                "UPDATE errors SET resolved_at = coalesce(resolved_at, ?) WHERE id = ?",
                (utc_now_str(), error_id),
            ).rowcount
        if not changed:
            self.get(error_id)  # raises NotFoundError
        return self.get(error_id)

    def stats(self) -> ErrorStats:
        with self.hub.db.read() as conn:
            by_category = {
                str(r[0]): int(r[1])
                for r in conn.execute("SELECT category, count(*) FROM errors GROUP BY category")
            }
            by_severity = {
                str(r[0]): int(r[1])
                for r in conn.execute("SELECT severity, count(*) FROM errors GROUP BY severity")
            }
            unresolved = int(
                conn.execute("SELECT count(*) FROM errors WHERE resolved_at IS NULL").fetchone()[0]
            )
        return ErrorStats(
            total=sum(by_category.values()),
            unresolved=unresolved,
            by_category=by_category,
            by_severity=by_severity,
        )

    def cleanup(self, days: float = 30, *, dry_run: bool = True) -> CleanupReport:
        return cleanup_older_than(self.hub, "errors", days, dry_run=dry_run)
