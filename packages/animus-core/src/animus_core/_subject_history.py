"""Appending subject events to the ``history`` table inside the caller's transaction.

Every row carries ``event_type`` (``task.created``, ``task.status-changed``,
``requirement.transitioned`` ...), the subject id (``task_id`` is filled for tasks only, so
per-task history stays an index lookup), ``subject_key`` and a JSON body that repeats those
fields plus the event's specifics (``from``/``to`` status, ``by``, ``reason``, ``changes``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from animus_protocol.envelope import to_jsonable
from animus_protocol.timeutil import utc_now_str

__all__ = ["record_subject_event"]


def record_subject_event(
    conn: sqlite3.Connection,
    event_type: str,
    *,
    subject_id: str,
    is_task: bool,
    message: str,
    data: Mapping[str, Any] | None = None,
) -> None:
    ts = utc_now_str()
    body: dict[str, Any] = {
        "ts": ts,
        "event_type": event_type,
        "subject_key": subject_id,
        "message": message,
    }
    if is_task:
        body["task_id"] = subject_id
    body.update(to_jsonable(dict(data or {})))
    conn.execute(
        "INSERT INTO history(ts, event_type, task_id, workflow_id, subject_key, message, json) "
        "VALUES (?, ?, ?, NULL, ?, ?, ?)",
        (
            ts,
            event_type,
            subject_id if is_task else None,
            subject_id,
            message,
            json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        ),
    )
