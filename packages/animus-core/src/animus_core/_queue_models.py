"""Records the queue service returns: entries, pages, statistics, bulk-change reports."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from pydantic import BaseModel, Field

from animus_core._queue_stats import QueueStats
from animus_protocol.subjects import SubjectDispatch

__all__ = ["BulkChange", "QueueEntry", "QueuePage", "QueueStats"]

ACTIVE_QUEUE_STATUSES = ("pending", "assigned", "held")
ENTRY_COLUMNS = (
    "entry_id, seq, subject_id, subject_key, subject_kind, task_id, workflow_ref, status, "
    "priority_rank, trigger_source, requested_at, enqueued_at, assigned_at, held_at, "
    "hold_reason, run_at, workflow_id, completed_at, dispatch_json"
)


class QueueEntry(BaseModel):
    """One queued dispatch and where it stands (pending, assigned, held or finished)."""

    entry_id: str
    seq: int
    subject_id: str
    subject_key: str
    subject_kind: str
    task_id: str | None = None
    workflow_ref: str | None = None
    status: str
    priority: str | None = None
    priority_rank: int = 2
    trigger_source: str | None = None
    requested_at: str
    enqueued_at: str
    assigned_at: str | None = None
    held_at: str | None = None
    hold_reason: str | None = None
    run_at: str | None = None
    workflow_id: str | None = None
    completed_at: str | None = None
    dispatch: SubjectDispatch | None = None
    # Set when the stored dispatch no longer parses: the entry is shown, never leased.
    problem: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> QueueEntry:
        dispatch: SubjectDispatch | None = None
        problem = None
        try:
            dispatch = SubjectDispatch.model_validate(json.loads(row["dispatch_json"]))
        except (ValueError, TypeError) as exc:  # JSONDecodeError and ValidationError
            problem = f"unreadable dispatch: {str(exc).splitlines()[0]}"
        return cls(
            entry_id=row["entry_id"],
            seq=row["seq"],
            subject_id=row["subject_id"],
            subject_key=row["subject_key"],
            subject_kind=row["subject_kind"],
            task_id=row["task_id"],
            workflow_ref=row["workflow_ref"],
            status=row["status"],
            priority=dispatch.priority.value if dispatch and dispatch.priority else None,
            priority_rank=row["priority_rank"],
            trigger_source=row["trigger_source"],
            requested_at=row["requested_at"],
            enqueued_at=row["enqueued_at"],
            assigned_at=row["assigned_at"],
            held_at=row["held_at"],
            hold_reason=row["hold_reason"],
            run_at=row["run_at"],
            workflow_id=row["workflow_id"],
            completed_at=row["completed_at"],
            dispatch=dispatch,
            problem=problem,
        )

    def summary(self) -> dict[str, Any]:
        """The flat columns a table shows."""
        return {
            "entry_id": self.entry_id,
            "subject": self.subject_key,
            "kind": self.subject_kind,
            "status": self.status,
            "priority": self.priority or "",
            "workflow_ref": self.workflow_ref or "",
            "workflow_id": self.workflow_id or "",
            "requested_at": self.requested_at,
        }


class QueuePage(BaseModel):
    entries: list[QueueEntry]
    total: int
    limit: int
    offset: int


class BulkChange(BaseModel):
    """What a hold / release / drop / reorder did (or, with ``dry_run``, would do)."""

    action: str
    dry_run: bool = False
    changed: list[str] = Field(default_factory=list)
    skipped: list[dict[str, str]] = Field(default_factory=list)
