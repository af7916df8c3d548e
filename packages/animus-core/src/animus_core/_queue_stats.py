"""Queue statistics: light enough for ``animus status`` to import without the entry models."""

from __future__ import annotations

import sqlite3

from pydantic import BaseModel, Field

__all__ = ["COMPLETION_STATUSES", "QueueStats", "queue_stats"]

ACTIVE = ("pending", "assigned", "held")
COMPLETION_STATUSES = ("completed", "failed", "cancelled")


class QueueStats(BaseModel):
    """``total`` counts entries still in the queue (pending + assigned + held)."""

    total: int = 0
    pending: int = 0
    assigned: int = 0
    held: int = 0
    deferred: int = Field(default=0, description="pending entries whose run_at is in the future")
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    dropped: int = 0


def queue_stats(conn: sqlite3.Connection, now: str) -> QueueStats:
    """Counts by status (one index scan) and pending entries deferred past ``now``."""
    counts = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            "SELECT status, count(*) FROM queue_entries GROUP BY status"
        ).fetchall()
    }
    deferred = int(
        conn.execute(
            "SELECT count(*) FROM queue_entries WHERE status = 'pending' "
            "AND run_at IS NOT NULL AND run_at > ?",
            (now,),
        ).fetchone()[0]
    )
    return QueueStats(
        total=sum(counts.get(s, 0) for s in ACTIVE),
        deferred=deferred,
        **{s: counts.get(s, 0) for s in (*ACTIVE, *COMPLETION_STATUSES)},
        dropped=counts.get("dropped", 0),
    )
