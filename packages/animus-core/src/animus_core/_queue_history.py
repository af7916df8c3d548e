"""Queue events in the ``history`` table, written inside the queue's own transaction.

Rows follow the subject-event layout (columns repeated in the JSON body), so
``animus history task TASK-001`` shows when a task was queued, leased and finished.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

__all__ = ["record_queue_event"]


def record_queue_event(
    conn: sqlite3.Connection,
    event_type: str,
    row: sqlite3.Row | dict[str, Any],
    *,
    ts: str,
    message: str,
    status: str | None = None,
    workflow_id: str | None = None,
    **data: Any,
) -> None:
    task_id = row["task_id"]
    subject_key = row["subject_key"]
    body: dict[str, Any] = {
        **data,
        "ts": ts,
        "event_type": event_type,
        "subject_key": subject_key,
        "message": message,
        "entry_id": row["entry_id"],
    }
    for name, value in (("task_id", task_id), ("workflow_id", workflow_id), ("status", status)):
        if value is not None:
            body[name] = value
    conn.execute(
        "INSERT INTO history(ts, event_type, task_id, workflow_id, subject_key, message, json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            ts,
            event_type,
            task_id,
            workflow_id,
            subject_key,
            message,
            json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str),
        ),
    )
