"""Run summaries: the indexed columns of a run, without the full workflow models (so
``animus status`` does not import them)."""

from __future__ import annotations

import sqlite3

from pydantic import BaseModel

__all__ = ["RUN_SUMMARY_COLUMNS", "RunSummary", "active_runs"]

RUN_SUMMARY_COLUMNS = (
    "id, status, task_id, subject_key, workflow_ref, phase_id, failed_at, failure_reason, "
    "started_at, completed_at, updated_at"
)


class RunSummary(BaseModel):
    id: str
    status: str
    task_id: str | None = None
    subject_key: str | None = None
    workflow_ref: str | None = None
    phase_id: str | None = None
    failure_reason: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    updated_at: str | None = None


def active_runs(conn: sqlite3.Connection) -> list[RunSummary]:
    """Runs that are pending, running or paused (oldest first)."""
    rows = conn.execute(
        f"SELECT {RUN_SUMMARY_COLUMNS} FROM workflows "  # noqa: S608 - constant columns
        "WHERE status IN ('pending', 'running', 'paused') ORDER BY started_at"
    ).fetchall()
    return [RunSummary(**dict(r)) for r in rows]
