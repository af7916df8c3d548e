"""Row-level helpers of the queue service: fetching entries, state checks, typed errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from animus_core._queue_models import ACTIVE_QUEUE_STATUSES, ENTRY_COLUMNS, QueueEntry
from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError

__all__ = [
    "entry_not_found",
    "event_ref",
    "fetch_entries",
    "parse_statuses",
    "placeholders",
    "status_of",
    "wrong_state",
]


def placeholders(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def fetch_entries(conn: sqlite3.Connection, entry_ids: Sequence[str]) -> list[QueueEntry]:
    if not entry_ids:
        return []
    rows = conn.execute(
        f"SELECT {ENTRY_COLUMNS} FROM queue_entries "  # noqa: S608 - placeholders only
        f"WHERE entry_id IN ({placeholders(entry_ids)})",
        list(entry_ids),
    ).fetchall()
    by_id = {r["entry_id"]: QueueEntry.from_row(r) for r in rows}
    return [by_id[i] for i in entry_ids]


def event_ref(entry: QueueEntry) -> dict[str, Any]:
    return {"entry_id": entry.entry_id, "task_id": entry.task_id, "subject_key": entry.subject_key}


def status_of(conn: sqlite3.Connection, entry_id: str) -> str:
    row = conn.execute(
        "SELECT status FROM queue_entries WHERE entry_id = ?", (entry_id,)
    ).fetchone()
    if row is None:
        raise entry_not_found([entry_id])
    return str(row["status"])


def entry_not_found(ids: Sequence[str]) -> NotFoundError:
    return NotFoundError(
        f"queue entry {', '.join(ids)} not found",
        details={"entry_ids": list(ids)},
        hint="list entry ids with 'animus queue list --status all'",
    )


def wrong_state(entry_id: str, status: str, wanted: str, verb: str) -> ConflictError:
    return ConflictError(
        f"queue entry {entry_id} is {status}, not {wanted}; cannot {verb}",
        details={"entry_id": entry_id, "status": status},
        hint="check it with 'animus queue list --status all'",
    )


def parse_statuses(status: str | Iterable[str] | None) -> list[str]:
    from animus_store.schema import QUEUE_STATUSES

    if status is None:
        return list(ACTIVE_QUEUE_STATUSES)
    names = [status] if isinstance(status, str) else list(status)
    parsed: list[str] = []
    for name in names:
        for part in name.split(","):
            value = part.strip().lower()
            if value == "all":
                return []
            if value not in QUEUE_STATUSES:
                raise InvalidInputError(
                    f"invalid queue status {part!r}; accepted: all, {', '.join(QUEUE_STATUSES)}",
                    details={"value": part},
                    hint="e.g. --status pending or --status all",
                )
            parsed.append(value)
    return parsed
