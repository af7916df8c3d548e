"""Requests that reach a run through the database: pause, cancel, manual verdicts.

The runner owns the run record but never owns its ``control`` field: every save of the
runner copies the stored ``control`` into what it writes (in one transaction), so a request
written by ``animus workflow pause`` while the runner works is never lost. The runner checks
the field at phase boundaries and, while an agent works, about twice a second.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from animus_protocol.envelope import ConflictError, InvalidInputError
from animus_protocol.statuses import WorkflowStatus
from animus_protocol.timeutil import utc_now_str
from animus_protocol.workflow import WorkflowRun

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = [
    "TERMINAL_STATUSES",
    "control_of",
    "process_start_time",
    "record_manual_verdict",
    "request_action",
    "runner_alive",
    "runner_state",
    "save_run",
    "settle_offline",
]

TERMINAL_STATUSES = frozenset(
    {
        WorkflowStatus.COMPLETED,
        WorkflowStatus.FAILED,
        WorkflowStatus.ESCALATED,
        WorkflowStatus.CANCELLED,
    }
)


def control_of(run: WorkflowRun) -> dict[str, Any]:
    extra = run.__pydantic_extra__ or {}
    value = extra.get("control")
    return dict(value) if isinstance(value, dict) else {}


def runner_state(run: WorkflowRun) -> dict[str, Any]:
    extra = run.__pydantic_extra__ or {}
    value = extra.get("runner")
    return dict(value) if isinstance(value, dict) else {}


def _set_extra(run: WorkflowRun, key: str, value: Any) -> None:
    if run.__pydantic_extra__ is None:
        run.__pydantic_extra__ = {}
    run.__pydantic_extra__[key] = value


def save_run(hub: ServiceHub, run: WorkflowRun, *, control: dict[str, Any] | None = None) -> None:
    """Save ``run`` keeping the stored ``control`` (or replacing it with ``control``)."""
    with hub.db.transaction():
        if control is None:
            try:
                stored = hub.runs.get(run.id)
            except Exception:
                stored = None
            control = control_of(stored) if stored is not None else control_of(run)
        _set_extra(run, "control", control)
        hub.runs.save(run)


def process_start_time(pid: int | None = None) -> int | None:
    """Field 22 of ``/proc/<pid>/stat`` (clock ticks since boot); None off Linux."""
    try:
        with open(f"/proc/{pid or os.getpid()}/stat", encoding="ascii") as fh:
            text = fh.read()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def runner_alive(run: WorkflowRun) -> bool:
    """Whether the runner recorded on ``run`` is still that same live process."""
    state = runner_state(run)
    pid = state.get("pid")
    if not isinstance(pid, int):
        return False
    started = process_start_time(pid)
    return started is not None and started == state.get("process_start_time")


def request_action(
    hub: ServiceHub, workflow_id: str, action: str, *, by: str = "cli"
) -> WorkflowRun:
    """Ask a run to ``pause`` or ``cancel``. A finished run is a ConflictError.

    A run whose runner is gone (paused, waiting on a manual gate, or crashed) is changed
    here at once: pause is a no-op for a paused run, cancel finishes it.
    """
    if action not in ("pause", "cancel"):
        raise InvalidInputError(f"unknown action {action!r}; expected pause or cancel")
    with hub.db.transaction():
        run = hub.runs.get(workflow_id)
        if run.status in TERMINAL_STATUSES:
            raise ConflictError(
                f"workflow run {workflow_id} is already {run.status.value}; nothing to {action}",
                details={"workflow_id": workflow_id, "status": run.status.value},
            )
        control = control_of(run)
        control["requested_action"] = action
        control["requested_at"] = utc_now_str()
        control["requested_by"] = by
        _set_extra(run, "control", control)
        hub.runs.save(run)
    return run


def record_manual_verdict(
    hub: ServiceHub,
    workflow_id: str,
    *,
    approve: bool,
    phase_id: str | None = None,
    feedback: str | None = None,
    by: str = "cli",
) -> tuple[WorkflowRun, str]:
    """Record approve/reject for the manual gate a run waits on; returns (run, phase id)."""
    with hub.db.transaction():
        run = hub.runs.get(workflow_id)
        state = runner_state(run)
        manual = state.get("manual")
        if run.status in TERMINAL_STATUSES or not isinstance(manual, dict):
            raise ConflictError(
                f"workflow run {workflow_id} is not waiting on a manual gate "
                f"(status {run.status.value})",
                details={"workflow_id": workflow_id, "status": run.status.value},
                hint="list what a run waits on with 'animus workflow get RUN'",
            )
        waiting = str(manual.get("phase_id"))
        if phase_id is not None and phase_id != waiting:
            raise ConflictError(
                f"workflow run {workflow_id} waits on phase {waiting!r}, not {phase_id!r}",
                details={"workflow_id": workflow_id, "waiting_phase": waiting},
            )
        if manual.get("approval_note_required") and approve and not (feedback or "").strip():
            raise InvalidInputError(
                f"phase {waiting!r} requires an approval note",
                hint="pass --feedback 'what you checked'",
            )
        control = control_of(run)
        control["manual_verdict"] = {
            "phase_id": waiting,
            "attempt": manual.get("attempt"),
            "approved": approve,
            "feedback": feedback or "",
            "by": by,
            "at": utc_now_str(),
        }
        _set_extra(run, "control", control)
        hub.runs.save(run)
    return run, waiting


def settle_offline(hub: ServiceHub, workflow_id: str, action: str) -> WorkflowRun:
    """Apply a pause/cancel request to a run no live runner owns (paused, waiting, crashed)."""
    from animus_protocol.statuses import CheckpointReason, WorkflowMachineState
    from animus_protocol.timeutil import utc_now
    from animus_workflow_runner.events import WorkflowEventSink

    with hub.db.transaction():
        run = hub.runs.get(workflow_id)
        control = control_of(run)
        control.pop("requested_action", None)
        changed = False
        if action == "cancel" and run.status not in TERMINAL_STATUSES:
            run.status = WorkflowStatus.CANCELLED
            run.machine_state = WorkflowMachineState.CANCELLED
            run.completed_at = utc_now()
            run.failure_reason = "cancelled"
            changed = True
        elif action == "pause" and run.status is WorkflowStatus.RUNNING:
            run.status = WorkflowStatus.PAUSED
            run.machine_state = WorkflowMachineState.PAUSED
            run.failure_reason = "paused while no runner was running it"
            changed = True
        _set_extra(run, "control", control)
        hub.runs.save(run)
    if changed:
        reason = CheckpointReason.CANCEL if action == "cancel" else CheckpointReason.PAUSE
        hub.runs.add_checkpoint(
            workflow_id, reason, run.current_phase, run.machine_state, run.status
        )
        sink = WorkflowEventSink(hub.paths.run_dir(workflow_id), workflow_id)
        try:
            kind = "workflow_cancelled" if action == "cancel" else "workflow_paused"
            sink.emit(kind, {"reason": run.failure_reason, "offline": True})
        finally:
            sink.close()
        hub.history.record(
            f"workflow-{'cancelled' if action == 'cancel' else 'paused'}",
            task_id=run.task_id or None,
            workflow_id=workflow_id,
            status=run.status.value,
            message=str(run.failure_reason),
        )
        if action == "cancel" and run.task_id:
            task = hub.tasks.get(run.task_id)
            if task.status.value not in ("done", "cancelled"):
                hub.tasks.set_status(
                    run.task_id,
                    "cancelled",
                    force=True,
                    reason=f"workflow {workflow_id} cancelled",
                    by=f"workflow {workflow_id}",
                )
    return hub.runs.get(workflow_id)
