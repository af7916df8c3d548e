"""The workflow-run repository on ``workflow.db``: runs, their decisions and checkpoints.

A run is stored whole as JSON in ``workflows.json`` plus summary columns (status, task,
subject key, phase, times) that exist to be filtered and indexed. Checkpoints live in their
own table, numbered per run inside the inserting transaction, so two writers never collide
on a number.
"""

from __future__ import annotations

import builtins
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from animus_core._queue_lease import ACTIVE_RUN_STATUSES
from animus_core._runs_models import RUN_SUMMARY_COLUMNS, RunSummary, active_runs
from animus_protocol.envelope import (
    ConflictError,
    InternalError,
    InvalidInputError,
    NotFoundError,
)
from animus_protocol.statuses import (
    CheckpointReason,
    WorkflowMachineState,
    WorkflowStatus,
)
from animus_protocol.subjects import subject_key
from animus_protocol.timeutil import format_rfc3339, parse_duration, utc_now, utc_now_str
from animus_protocol.workflow import Checkpoint, WorkflowDecisionRecord, WorkflowRun

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = [
    "TERMINAL_RUN_STATUSES",
    "CheckpointRecord",
    "PrunePlan",
    "RunPage",
    "RunSummary",
    "WorkflowRunRepository",
]

TERMINAL_RUN_STATUSES = ("completed", "failed", "escalated", "cancelled")
_SUMMARY = RUN_SUMMARY_COLUMNS


class RunPage(BaseModel):
    runs: builtins.list[RunSummary]
    total: int
    limit: int
    offset: int


class CheckpointRecord(BaseModel):
    """A checkpoint row: the wire checkpoint plus the run snapshot taken with it."""

    workflow_id: str
    checkpoint: Checkpoint
    snapshot: Any | None = None


class PrunePlan(BaseModel):
    """Runs a prune selects; ``deleted`` is true only when they were actually removed."""

    dry_run: bool
    older_than: str | None = None
    keep_last: int | None = None
    statuses: builtins.list[str]
    runs: builtins.list[RunSummary] = Field(default_factory=builtins.list)
    kept: int = 0
    deleted: bool = False


def _parse_run(workflow_id: str, text: str) -> WorkflowRun:
    try:
        return WorkflowRun.from_json(text)
    except ValueError as exc:  # ValidationError is a ValueError
        raise InternalError(
            f"workflow run {workflow_id} is stored in a form this Animus cannot read: "
            f"{str(exc).splitlines()[0]}",
            code="corrupt_state",
            details={"workflow_id": workflow_id},
            hint=f"its summary still shows in 'animus workflow list'; remove it with "
            f"'animus workflow delete {workflow_id} --yes --force' if it is not needed",
        ) from None


def _not_found(workflow_id: str) -> NotFoundError:
    return NotFoundError(
        f"workflow run {workflow_id} not found",
        details={"workflow_id": workflow_id},
        hint="list runs with 'animus workflow list'",
    )


class WorkflowRunRepository:
    """Workflow runs of one project (``hub.runs``)."""

    def __init__(self, hub: ServiceHub) -> None:
        self.hub = hub

    def save(self, run: WorkflowRun) -> None:
        """Insert or replace ``run`` (whole JSON plus summary columns)."""
        status = run.status.value
        completed = format_rfc3339(run.completed_at) if run.completed_at else None
        failed_at = (completed or utc_now_str()) if status == "failed" else None
        phase_id = run.current_phase
        if phase_id is None and 0 <= run.current_phase_index < len(run.phases):
            phase_id = run.phases[run.current_phase_index].phase_id
        with self.hub.db.transaction() as conn:
            conn.execute(
                "INSERT INTO workflows(id, status, task_id, subject_key, workflow_ref, phase_id,"
                " failed_at, failure_reason, started_at, completed_at, updated_at, json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET status = excluded.status,"
                " task_id = excluded.task_id, subject_key = excluded.subject_key,"
                " workflow_ref = excluded.workflow_ref, phase_id = excluded.phase_id,"
                " failed_at = coalesce(workflows.failed_at, excluded.failed_at),"
                " failure_reason = excluded.failure_reason, started_at = excluded.started_at,"
                " completed_at = excluded.completed_at, updated_at = excluded.updated_at,"
                " json = excluded.json",
                (
                    run.id,
                    status,
                    run.task_id or None,
                    subject_key(run.subject),
                    run.workflow_ref,
                    phase_id,
                    failed_at,
                    run.failure_reason,
                    format_rfc3339(run.started_at),
                    completed,
                    utc_now_str(),
                    run.to_json(),
                ),
            )

    def get(self, workflow_id: str) -> WorkflowRun:
        with self.hub.db.read() as conn:
            row = conn.execute("SELECT json FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
        if row is None:
            raise _not_found(workflow_id)
        return _parse_run(workflow_id, row["json"])

    def exists(self, workflow_id: str) -> bool:
        with self.hub.db.read() as conn:
            row = conn.execute("SELECT 1 FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
        return row is not None

    def list(
        self,
        status: str | None = None,
        task_id: str | None = None,
        *,
        limit: int = 50,
        offset: int = 0,
    ) -> RunPage:
        """Runs, newest first; ``status`` accepts any spelling of a workflow status."""
        if limit < 1 or offset < 0:
            raise InvalidInputError(
                f"invalid paging limit={limit} offset={offset}",
                hint="limit must be at least 1 and offset at least 0",
            )
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        if status is not None:
            clauses.append("status = ?")
            params.append(WorkflowStatus.parse(status).value)
        if task_id is not None:
            clauses.append("task_id = ?")
            params.append(task_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.hub.db.read() as conn:
            total = int(
                conn.execute(
                    f"SELECT count(*) FROM workflows {where}",  # noqa: S608 - fixed clauses
                    params,
                ).fetchone()[0]
            )
            rows = conn.execute(
                f"SELECT {_SUMMARY} FROM workflows {where} "  # noqa: S608 - fixed clauses
                "ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return RunPage(
            runs=[RunSummary(**dict(r)) for r in rows], total=total, limit=limit, offset=offset
        )

    def active(self) -> builtins.list[RunSummary]:
        """Runs that are pending, running or paused (oldest first)."""
        with self.hub.db.read() as conn:
            return active_runs(conn)

    def active_subjects(self) -> set[str]:
        """Subject keys with an active run (one active run per subject)."""
        with self.hub.db.read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT subject_key FROM workflows WHERE status IN (?, ?, ?) "
                "AND subject_key IS NOT NULL",
                ACTIVE_RUN_STATUSES,
            ).fetchall()
        return {str(r[0]) for r in rows}

    def decisions(self, workflow_id: str) -> builtins.list[WorkflowDecisionRecord]:
        return builtins.list(self.get(workflow_id).decision_history)

    # -- checkpoints -----------------------------------------------------------------------

    def add_checkpoint(
        self,
        workflow_id: str,
        reason: str | CheckpointReason,
        phase_id: str | None,
        machine_state: str | WorkflowMachineState,
        status: str | WorkflowStatus,
        *,
        snapshot: Any | None = None,
    ) -> Checkpoint:
        """Record the next checkpoint of a run (number = last + 1, in one transaction)."""
        checkpoint_reason = CheckpointReason.parse(reason)
        state = WorkflowMachineState.parse(machine_state)
        run_status = WorkflowStatus.parse(status)
        with self.hub.db.transaction() as conn:
            row = conn.execute("SELECT json FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
            if row is None:
                raise _not_found(workflow_id)
            number = int(
                conn.execute(
                    "SELECT coalesce(max(number), 0) + 1 FROM checkpoints WHERE workflow_id = ?",
                    (workflow_id,),
                ).fetchone()[0]
            )
            checkpoint = Checkpoint(
                number=number,
                reason=checkpoint_reason,
                phase_id=phase_id,
                machine_state=state,
                status=run_status,
            )
            conn.execute(
                "INSERT INTO checkpoints(workflow_id, number, timestamp, reason, phase_id,"
                " machine_state, status, snapshot_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    workflow_id,
                    number,
                    format_rfc3339(checkpoint.timestamp),
                    checkpoint_reason.value,
                    phase_id,
                    state.value,
                    run_status.value,
                    None if snapshot is None else json.dumps(snapshot, default=str),
                ),
            )
            run = _parse_run(workflow_id, row["json"])
            run.checkpoint_metadata.checkpoints.append(checkpoint)
            run.checkpoint_metadata.checkpoint_count = number
            conn.execute(
                "UPDATE workflows SET json = ?, updated_at = ? WHERE id = ?",
                (run.to_json(), utc_now_str(), workflow_id),
            )
        return checkpoint

    def checkpoints(self, workflow_id: str) -> builtins.list[Checkpoint]:
        return [c.checkpoint for c in self._checkpoint_rows(workflow_id, None)]

    def checkpoint(self, workflow_id: str, number: int | None = None) -> CheckpointRecord:
        """One checkpoint with its snapshot (the latest when ``number`` is None)."""
        rows = self._checkpoint_rows(workflow_id, number)
        if not rows:
            which = "any checkpoint" if number is None else f"checkpoint {number}"
            raise NotFoundError(
                f"workflow run {workflow_id} has no {which}",
                details={"workflow_id": workflow_id, "number": number},
                hint=f"list them with 'animus workflow checkpoints list {workflow_id}'",
            )
        return rows[-1]

    def _checkpoint_rows(
        self, workflow_id: str, number: int | None
    ) -> builtins.list[CheckpointRecord]:
        with self.hub.db.read() as conn:
            if (
                conn.execute("SELECT 1 FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
                is None
            ):
                raise _not_found(workflow_id)
            sql = (
                "SELECT number, timestamp, reason, phase_id, machine_state, status, snapshot_json "
                "FROM checkpoints WHERE workflow_id = ?"
            )
            params: builtins.list[Any] = [workflow_id]
            if number is not None:
                sql += " AND number = ?"
                params.append(number)
            rows = conn.execute(sql + " ORDER BY number", params).fetchall()
        return [
            CheckpointRecord(
                workflow_id=workflow_id,
                checkpoint=Checkpoint(
                    number=r["number"],
                    timestamp=r["timestamp"],
                    reason=r["reason"],
                    phase_id=r["phase_id"],
                    machine_state=r["machine_state"] or "idle",
                    status=r["status"] or "pending",
                ),
                snapshot=None if r["snapshot_json"] is None else json.loads(r["snapshot_json"]),
            )
            for r in rows
        ]

    def prune_checkpoints(
        self, workflow_id: str, *, keep_last: int = 3, dry_run: bool = True
    ) -> builtins.list[int]:
        """Checkpoint numbers beyond the newest ``keep_last`` per phase (deleted unless dry run).

        The run's ``checkpoint_metadata`` keeps its count (numbering never reuses a number).
        """
        if keep_last < 0:
            raise InvalidInputError(
                f"--keep-last must be 0 or more, not {keep_last}", hint="e.g. --keep-last 3"
            )
        with self.hub.db.transaction() as conn:
            row = conn.execute("SELECT json FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
            if row is None:
                raise _not_found(workflow_id)
            seen: dict[str | None, int] = {}
            doomed: builtins.list[int] = []
            for number, phase_id in conn.execute(
                "SELECT number, phase_id FROM checkpoints WHERE workflow_id = ? "
                "ORDER BY number DESC",
                (workflow_id,),
            ).fetchall():
                seen[phase_id] = seen.get(phase_id, 0) + 1
                if seen[phase_id] > keep_last:
                    doomed.append(int(number))
            doomed.sort()
            if doomed and not dry_run:
                conn.executemany(
                    "DELETE FROM checkpoints WHERE workflow_id = ? AND number = ?",
                    [(workflow_id, n) for n in doomed],
                )
                run = _parse_run(workflow_id, row["json"])
                gone = set(doomed)
                run.checkpoint_metadata.checkpoints = [
                    c for c in run.checkpoint_metadata.checkpoints if c.number not in gone
                ]
                conn.execute(
                    "UPDATE workflows SET json = ?, updated_at = ? WHERE id = ?",
                    (run.to_json(), utc_now_str(), workflow_id),
                )
        return doomed

    # -- removal ---------------------------------------------------------------------------

    def prune(
        self,
        *,
        older_than: str | None = None,
        keep_last: int | None = None,
        status: str | None = None,
        dry_run: bool = True,
        now: datetime | None = None,
    ) -> PrunePlan:
        """Select terminal runs to delete: older than a duration and/or beyond the newest N.

        ``older_than`` takes ``30d``, ``12h`` (a bare number is days). Active runs are never
        selected. With both limits a run must satisfy both to go.
        """
        if older_than is None and keep_last is None:
            raise InvalidInputError(
                "prune needs --older-than and/or --keep-last",
                hint="e.g. 'animus workflow prune --older-than 30d'",
            )
        if keep_last is not None and keep_last < 0:
            raise InvalidInputError(
                f"--keep-last must be 0 or more, not {keep_last}", hint="e.g. --keep-last 10"
            )
        if status is not None:
            parsed = WorkflowStatus.parse(status).value
            if parsed not in TERMINAL_RUN_STATUSES:
                raise InvalidInputError(
                    f"cannot prune {parsed} runs: only finished runs are pruned",
                    hint=f"use one of: {', '.join(TERMINAL_RUN_STATUSES)}",
                )
            statuses = [parsed]
        else:
            statuses = builtins.list(TERMINAL_RUN_STATUSES)
        cutoff = None
        if older_than is not None:
            cutoff = format_rfc3339((now or utc_now()) - parse_duration(older_than, bare_unit="d"))
        marks = ", ".join("?" for _ in statuses)
        with self.hub.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT {_SUMMARY} FROM workflows WHERE status IN ({marks}) "  # noqa: S608
                "ORDER BY coalesce(completed_at, started_at) DESC, id DESC",
                statuses,
            ).fetchall()
            chosen = []
            for index, row in enumerate(rows):
                if keep_last is not None and index < keep_last:
                    continue
                when = row["completed_at"] or row["started_at"] or ""
                if cutoff is not None and when >= cutoff:
                    continue
                chosen.append(RunSummary(**dict(row)))
            if not dry_run:
                for run in chosen:
                    conn.execute("DELETE FROM checkpoints WHERE workflow_id = ?", (run.id,))
                    conn.execute("DELETE FROM workflows WHERE id = ?", (run.id,))
        return PrunePlan(
            dry_run=dry_run,
            older_than=older_than,
            keep_last=keep_last,
            statuses=statuses,
            runs=chosen,
            kept=len(rows) - len(chosen),
            deleted=not dry_run and bool(chosen),
        )

    def delete(self, workflow_id: str, *, force: bool = False) -> RunSummary:
        """Delete a run and its checkpoints; an active run only with ``force``."""
        with self.hub.db.transaction() as conn:
            row = conn.execute(
                f"SELECT {_SUMMARY} FROM workflows WHERE id = ?",  # noqa: S608 - constant columns
                (workflow_id,),
            ).fetchone()
            if row is None:
                raise _not_found(workflow_id)
            summary = RunSummary(**dict(row))
            if summary.status in ACTIVE_RUN_STATUSES and not force:
                raise ConflictError(
                    f"workflow run {workflow_id} is {summary.status}; refusing to delete an "
                    "active run",
                    details={"workflow_id": workflow_id, "status": summary.status},
                    hint="cancel it first, or pass --force if its process is gone",
                )
            conn.execute("DELETE FROM checkpoints WHERE workflow_id = ?", (workflow_id,))
            conn.execute("DELETE FROM workflows WHERE id = ?", (workflow_id,))
        return summary

    def describe(self, workflow_id: str) -> RunSummary:
        with self.hub.db.read() as conn:
            row = conn.execute(
                f"SELECT {_SUMMARY} FROM workflows WHERE id = ?",  # noqa: S608 - constant columns
                (workflow_id,),
            ).fetchone()
        if row is None:
            raise _not_found(workflow_id)
        return RunSummary(**dict(row))
