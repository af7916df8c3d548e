"""Run history on ``workflow.db``: what happened to which task and run, and when.

Each record is one event (``workflow-started``, ``workflow-completed``, ``task-status``...)
with the task, run and subject it concerns, a one-line message, an optional status and free
JSON data. Searches go through the ``(task_id, ts)``, ``(workflow_id, ts)`` and ``ts``
indexes.
"""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from animus_core._runs_retention import CleanupReport, check_paging, cleanup_older_than
from animus_core._runs_time_range import resolve_instant
from animus_protocol.envelope import InvalidInputError, NotFoundError
from animus_protocol.timeutil import format_rfc3339, utc_now, utc_now_str

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = ["CleanupReport", "HistoryPage", "HistoryRecord", "HistoryService"]

_COLUMNS = "id, ts, event_type, task_id, workflow_id, subject_key, message, json"
# The JSON body repeats the row's columns (as subject events do) beside the event's own data.
_ENVELOPE_KEYS = frozenset(
    {"ts", "event_type", "task_id", "workflow_id", "subject_key", "message", "status"}
)
# A status-change event names the new status ``to``; other events say ``status``.
_STATUS_SQL = "coalesce(json_extract(json, '$.status'), json_extract(json, '$.to'))"


def _body(text: str) -> dict[str, Any]:
    """The JSON body of a row; an unreadable one is kept visible rather than failing a list."""
    try:
        body = json.loads(text)
    except ValueError:
        return {"unreadable_json": text[:500]}
    return body if isinstance(body, dict) else {"unreadable_json": text[:500]}


class HistoryRecord(BaseModel):
    id: int
    ts: str
    event_type: str
    task_id: str | None = None
    workflow_id: str | None = None
    subject_key: str | None = None
    status: str | None = None
    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Any) -> HistoryRecord:
        body = _body(row["json"])
        status = body.get("status") or body.get("to")
        return cls(
            id=row["id"],
            ts=row["ts"],
            event_type=row["event_type"],
            task_id=row["task_id"],
            workflow_id=row["workflow_id"],
            subject_key=row["subject_key"],
            status=status if isinstance(status, str) else None,
            message=row["message"],
            data={k: v for k, v in body.items() if k not in _ENVELOPE_KEYS},
        )


class HistoryPage(BaseModel):
    records: builtins.list[HistoryRecord]
    total: int
    limit: int
    offset: int


class HistoryService:
    """History of one project (``hub.history``)."""

    def __init__(self, hub: ServiceHub) -> None:
        self.hub = hub

    def record(
        self,
        event_type: str,
        *,
        task_id: str | None = None,
        workflow_id: str | None = None,
        subject_key: str | None = None,
        status: str | None = None,
        message: str = "",
        data: dict[str, Any] | None = None,
        ts: datetime | None = None,
    ) -> HistoryRecord:
        if not event_type.strip():
            raise InvalidInputError("history event type is empty", hint="e.g. workflow-completed")
        stamp = format_rfc3339(ts) if ts is not None else utc_now_str()
        key = subject_key or task_id
        body: dict[str, Any] = {**(data or {}), "ts": stamp, "event_type": event_type}
        for name, value in (
            ("task_id", task_id),
            ("workflow_id", workflow_id),
            ("subject_key", key),
            ("message", message),
            ("status", status),
        ):
            if value is not None:
                body[name] = value
        with self.hub.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO history(ts, event_type, task_id, workflow_id, subject_key, message,"
                " json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    stamp,
                    event_type,
                    task_id,
                    workflow_id,
                    key,
                    message,
                    json.dumps(body, default=str, separators=(",", ":")),
                ),
            )
            row_id = int(cursor.lastrowid or 0)
        return HistoryRecord(
            id=row_id,
            ts=stamp,
            event_type=event_type,
            task_id=task_id,
            workflow_id=workflow_id,
            subject_key=subject_key or task_id,
            status=status,
            message=message,
            data=data or {},
        )

    def get(self, record_id: int) -> HistoryRecord:
        with self.hub.db.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM history WHERE id = ?",  # noqa: S608 - constant columns
                (record_id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(
                f"history record {record_id} not found",
                details={"id": record_id},
                hint="see recent records with 'animus history recent'",
            )
        return HistoryRecord.from_row(row)

    def for_task(self, task_id: str, limit: int = 50) -> builtins.list[HistoryRecord]:
        return self.search(task_id=task_id, limit=limit).records

    def recent(self, limit: int = 20) -> builtins.list[HistoryRecord]:
        return self.search(limit=limit).records

    def search(
        self,
        *,
        task_id: str | None = None,
        workflow_id: str | None = None,
        status: str | None = None,
        event_type: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> HistoryPage:
        """Records newest first. ``since``/``until``: a duration ago (``7d``) or a timestamp."""
        check_paging(limit, offset)
        now = utc_now()
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        for column, value in (
            ("task_id", task_id),
            ("workflow_id", workflow_id),
            ("event_type", event_type),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if status is not None:
            clauses.append(f"{_STATUS_SQL} = ?")
            params.append(status.strip().lower())
        start = resolve_instant(since, now=now)
        end = resolve_instant(until, now=now)
        if start is not None:
            clauses.append("ts >= ?")
            params.append(start)
        if end is not None:
            clauses.append("ts <= ?")
            params.append(end)
        if start is not None and end is not None and start > end:
            raise InvalidInputError(
                f"--since ({start}) is after --until ({end})",
                hint="swap them, or drop one",
            )
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.hub.db.read() as conn:
            total = int(
                conn.execute(
                    f"SELECT count(*) FROM history {where}",  # noqa: S608 - fixed clauses
                    params,
                ).fetchone()[0]
            )
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM history {where} "  # noqa: S608 - fixed clauses
                "ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return HistoryPage(
            records=[HistoryRecord.from_row(r) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    def cleanup(self, days: float = 30, *, dry_run: bool = True) -> CleanupReport:
        """Delete records older than ``days`` (a dry run only counts them)."""
        return cleanup_older_than(self.hub, "history", days, dry_run=dry_run)
