"""The phase loop: one workflow run from start (or resume) to a terminal or waiting state.

State lives in ``workflow.db``: the ``WorkflowRun`` (statuses and machine states of the
reference, decisions, rework counts, checkpoints) plus a ``runner`` block on it (step
ordinal, the phase attempt in progress, usage, worktree, a pending manual gate). Each phase
ends with one save of the run: that save is the phase's commit point. Side effects inside a
phase (agent session, command, git commit) and after the last phase (merge, push, PR) are
durable steps of the step journal, replayed from the last phase boundary on resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from typing import Any, NoReturn

from animus_core.hub import ServiceHub
from animus_protocol.envelope import (
    AnimusError,
    ConflictError,
    NotFoundError,
)
from animus_protocol.statuses import (
    CheckpointReason,
    WorkflowMachineState,
    WorkflowStatus,
)
from animus_protocol.subjects import SubjectRef
from animus_protocol.timeutil import utc_now, utc_now_str
from animus_protocol.workflow import (
    WorkflowDecisionRecord,
    WorkflowRun,
)
from animus_store import StepJournal
from animus_workflow_runner import _phases
from animus_workflow_runner._landing import land
from animus_workflow_runner._models import EXIT_CODES, ExecuteRequest, RunOutcome, Stop
from animus_workflow_runner._routing import Route, decision_record_from
from animus_workflow_runner._setup import (
    create_run,
    load_run,
    new_run_id,
    resolve_subject,
    validate_new,
)
from animus_workflow_runner._worktree import ensure_execution_dir
from animus_workflow_runner.control import (
    control_of,
    process_start_time,
    save_run,
)
from animus_workflow_runner.definition import (
    WorkflowDefinition,
)
from animus_workflow_runner.events import WorkflowEventSink
from animus_workflow_runner.steps import KillSwitch, StepContext

__all__ = [
    "EXIT_CODES",
    "ExecuteRequest",
    "RunOutcome",
    "WorkflowExecution",
    "decision_record_from",
    "execute",
    "new_run_id",
]


class WorkflowExecution:
    """One runner process's work on one run."""

    def __init__(self, hub: ServiceHub, request: ExecuteRequest) -> None:
        self.hub = hub
        self.request = request
        self.env: Mapping[str, str] = dict(request.env if request.env is not None else os.environ)
        self.run: WorkflowRun
        self.definition: WorkflowDefinition
        self.state: dict[str, Any] = {}
        self.events: WorkflowEventSink
        self.steps: StepContext
        self.task: Any = None
        self.resumed = False
        self.stop_request: str | None = None  # pause | cancel (SIGTERM, control field)
        self.sessions: Any = None
        self.agent_runner: Any = None

    # -- setup -------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Validate and create (or load) the run; raises before anything starts."""
        req = self.request
        if req.workflow_id:
            load_run(self, req.workflow_id)
        else:
            create_run(self)
        self.events = WorkflowEventSink(
            self.hub.paths.run_dir(self.run.id),
            self.run.id,
            socket_path=req.events_socket,
            listener=req.listener,
        )
        token = self.hub.db.acquire_fencing_token(
            f"workflow runner pid {os.getpid()}", scope=f"run:{self.run.id}"
        )
        self.steps = StepContext(
            StepJournal(self.hub.db, fencing_scope=f"run:{self.run.id}"),
            self.run.id,
            token,
            KillSwitch(self.env),
        )

    def resolve_subject(self) -> tuple[SubjectRef, str]:
        """The run's subject (an unknown task is a NotFoundError)."""
        return resolve_subject(self)

    # Kept for callers written against the first version (the MCP tools); prefer
    # validate_new(), which also checks the workflow and the subject's active runs.
    _resolve_subject = resolve_subject

    def validate_new(self) -> None:
        """Check a new run's subject, workflow (file:line) and that its subject is free."""
        validate_new(self)

    # -- persistence helpers -----------------------------------------------------------------

    def save(self, *, control: dict[str, Any] | None = None) -> None:
        if self.run.__pydantic_extra__ is None:
            self.run.__pydantic_extra__ = {}
        self.run.__pydantic_extra__["runner"] = self.state
        save_run(self.hub, self.run, control=control)

    def commit_point(
        self,
        reason: CheckpointReason | str,
        phase_id: str | None = None,
        *,
        control: dict[str, Any] | None = None,
        history: tuple[str, str] | None = None,
    ) -> None:
        """Save the run, add a checkpoint and a history row in one transaction (one fsync)."""
        with self.hub.db.transaction():
            self.save(control=control)
            self.checkpoint(reason, phase_id)
            if history is not None:
                self.history(*history)

    def release(self) -> None:
        """Forget this process on the run: it is about to stop working on it."""
        self.state["pid"] = None
        self.state["process_start_time"] = None

    def checkpoint(self, reason: CheckpointReason | str, phase_id: str | None = None) -> None:
        cp = self.hub.runs.add_checkpoint(
            self.run.id, reason, phase_id, self.run.machine_state, self.run.status
        )
        self.run.checkpoint_metadata.checkpoints.append(cp)
        self.run.checkpoint_metadata.checkpoint_count = cp.number

    def stored_control(self) -> dict[str, Any]:
        try:
            return control_of(self.hub.runs.get(self.run.id))
        except NotFoundError:
            return {}

    def history(self, event_type: str, message: str, **data: Any) -> None:
        with contextlib.suppress(Exception):
            self.hub.history.record(
                event_type,
                task_id=self.run.task_id or None,
                workflow_id=self.run.id,
                status=self.run.status.value,
                message=message,
                data=data or None,
            )

    def project_task(self, status: str, reason: str | None = None) -> None:
        """Task status projection (spec §5.2); never fails the run."""
        if not self.run.task_id:
            return
        try:
            task = self.hub.tasks.get(self.run.task_id)
            if task.status.value == status:
                return
            if status == "cancelled" and task.status.value in ("done", "cancelled"):
                return
            self.hub.tasks.set_status(
                self.run.task_id, status, force=True, reason=reason, by=f"workflow {self.run.id}"
            )
        except Exception as exc:
            with contextlib.suppress(Exception):
                self.hub.errors.record(
                    "projection",
                    f"could not set {self.run.task_id} to {status}: {exc}",
                    task_id=self.run.task_id,
                    workflow_id=self.run.id,
                )

    # -- the run -----------------------------------------------------------------------------

    async def execute(self) -> RunOutcome:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGTERM, self._on_sigterm)
        try:
            self._start()
            outcome = await self._loop()
        except Stop as stop:
            outcome = stop.outcome
        except AnimusError as exc:
            if isinstance(exc, ConflictError) and self.state.get("interrupted"):
                raise  # a resume that needs --force: the run was paused with the message
            outcome = self._stop_on_error(exc, fail=True)
        except Exception as exc:
            outcome = self._stop_on_error(exc, fail=False)
        finally:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signal.SIGTERM)
            if self.sessions is not None and self.request.session_host is None:
                with contextlib.suppress(Exception):
                    await self.sessions.aclose()
            self.events.close()
        return outcome

    def _stop_on_error(self, exc: BaseException, *, fail: bool) -> RunOutcome:
        """Record an error that escaped the loop: a known one fails the run, an unexpected
        one pauses it (resumable once the cause is fixed)."""
        message = str(exc) or type(exc).__name__
        with contextlib.suppress(Exception):
            self.hub.errors.record(
                "runner",
                f"{type(exc).__name__}: {message}",
                task_id=self.run.task_id or None,
                workflow_id=self.run.id,
            )
        try:
            if fail:
                self.finish_failed(message)
            self.pause(f"runner error ({type(exc).__name__}): {message}")
        except Stop as stop:
            return stop.outcome

    def _on_sigterm(self) -> None:
        self.stop_request = self.stop_request or "pause"
        if self.agent_runner is not None:
            self.agent_runner.cancel()

    def _start(self) -> None:
        self.state["pid"] = os.getpid()
        self.state["process_start_time"] = process_start_time()
        self.state["runner_started_at"] = utc_now_str()
        control = self.stored_control() if self.resumed else {}
        if self.resumed:
            # A resume clears a pending pause request (that is what resuming means).
            control.pop("requested_action", None)
            self.state.pop("paused_reason", None)
            self.state.pop("interrupted", None)
            was = self.run.status
            self.run.status = WorkflowStatus.RUNNING
            self.run.machine_state = WorkflowMachineState.EVALUATE_TRANSITION
            self.run.failure_reason = None
            self.run.completed_at = None
            self.commit_point(
                CheckpointReason.RESUME,
                self.run.current_phase,
                control=control,
                history=("workflow-resumed", f"workflow {self.run.id} resumed"),
            )
            self.events.emit("workflow_resumed", {"from_status": was.value, "pid": os.getpid()})
        else:
            self.run.machine_state = WorkflowMachineState.EVALUATE_TRANSITION
            with self.hub.db.transaction():
                self.commit_point(
                    CheckpointReason.START,
                    control={},
                    history=("workflow-started", f"workflow {self.run.workflow_ref} started"),
                )
                self.project_task("in-progress")
            self.events.emit(
                "workflow_started",
                {
                    "workflow_ref": self.run.workflow_ref,
                    "subject": self.run.subject.to_wire(),
                    "task_id": self.run.task_id or None,
                    "phases": [p["id"] for p in self.definition.phases],
                    "pid": os.getpid(),
                },
            )
        self.project_task("in-progress")  # a no-op unless resuming
        ensure_execution_dir(self)

    async def _loop(self) -> RunOutcome:
        phases = self.definition.phases
        while True:
            self.check_control(boundary=True)
            index = self.run.current_phase_index
            if index >= len(phases):
                return await self._finish_success()
            verdict_route = await _phases.run_phase(self, index)
            self.apply_route(index, verdict_route)

    # -- control ---------------------------------------------------------------------------

    def check_control(self, *, boundary: bool) -> None:
        """Act on a pause/cancel request (SIGTERM or the control field) at a boundary."""
        action = self.stop_request
        control = self.stored_control()
        requested = control.get("requested_action")
        if requested in ("pause", "cancel"):
            action = "cancel" if "cancel" in (requested, action) else requested
        if action is None or not boundary:
            return
        control.pop("requested_action", None)
        if action == "cancel":
            self.finish_cancelled(control)
        self.pause(
            f"paused on request ({control.get('requested_by') or 'signal'})", control=control
        )

    def pause(
        self, reason: str, *, control: dict[str, Any] | None = None, manual: bool = False
    ) -> NoReturn:
        self.run.status = WorkflowStatus.PAUSED
        self.run.machine_state = WorkflowMachineState.PAUSED
        self.state["paused_reason"] = reason
        self.release()
        self.run.failure_reason = reason if not manual else None
        self.commit_point(
            CheckpointReason.PAUSE,
            self.run.current_phase,
            control=control,
            history=("workflow-paused", reason),
        )
        if manual:
            self.events.emit(
                "manual_pending", dict(self.state.get("manual") or {}), self.run.current_phase
            )
        self.events.emit("workflow_paused", {"reason": reason}, self.run.current_phase)
        raise Stop(
            RunOutcome(
                self.run.id,
                "manual_pending" if manual else "paused",
                3,
                reason,
                self.run.machine_state.value,
            )
        )

    def finish_cancelled(self, control: dict[str, Any] | None = None) -> NoReturn:
        self.run.status = WorkflowStatus.CANCELLED
        self.run.machine_state = WorkflowMachineState.CANCELLED
        self.run.completed_at = utc_now()
        self.run.failure_reason = "cancelled"
        self.state["manual"] = None
        self.release()
        with self.hub.db.transaction():
            self.commit_point(
                CheckpointReason.CANCEL,
                self.run.current_phase,
                control=control,
                history=("workflow-cancelled", f"workflow {self.run.id} cancelled"),
            )
            self.project_task("cancelled", f"workflow {self.run.id} cancelled")
        self.events.emit("workflow_cancelled", {})
        raise Stop(RunOutcome(self.run.id, "cancelled", 4, "cancelled", "cancelled"))

    def finish_failed(
        self,
        reason: str,
        *,
        escalated: bool = False,
        machine: WorkflowMachineState | None = None,
        status_name: str | None = None,
        phase_id: str | None = None,
    ) -> NoReturn:
        self.run.status = WorkflowStatus.ESCALATED if escalated else WorkflowStatus.FAILED
        self.run.machine_state = machine or (
            WorkflowMachineState.HUMAN_ESCALATED if escalated else WorkflowMachineState.FAILED
        )
        self.run.completed_at = utc_now()
        self.run.failure_reason = reason
        self.release()
        with self.hub.db.transaction():
            self.commit_point(
                CheckpointReason.STATUS_CHANGE,
                phase_id or self.run.current_phase,
                history=("workflow-failed", reason),
            )
            self.project_task("blocked", reason)
        self.events.emit(
            "workflow_failed",
            {
                "reason": reason,
                "status": self.run.status.value,
                "machine_state": self.run.machine_state.value,
            },
            phase_id,
        )
        with contextlib.suppress(Exception):
            self.hub.errors.record(
                "workflow", reason, task_id=self.run.task_id or None, workflow_id=self.run.id
            )
        name = status_name or ("escalated" if escalated else "failed")
        raise Stop(RunOutcome(self.run.id, name, 1, reason, self.run.machine_state.value))

    # -- routing -----------------------------------------------------------------------------

    def apply_route(self, index: int, route: Route) -> None:
        """Move the cursor after a phase (the phase's end was already saved)."""
        if route.kind == "next":
            self.run.current_phase_index = index + 1
        elif route.kind == "goto":
            assert route.target_index is not None
            self.run.current_phase_index = route.target_index
        elif route.kind == "complete":
            self.run.current_phase_index = len(self.definition.phases)
        elif route.kind == "fail":
            self.finish_failed(route.reason or "phase failed", phase_id=route.phase_id)
        elif route.kind == "escalate":
            self.finish_failed(
                route.reason or "rework budget exhausted", escalated=True, phase_id=route.phase_id
            )
        elif route.kind == "pause":
            self.pause(route.reason or "paused")
        elif route.kind == "manual":
            self.pause(route.reason or "waiting on a manual gate", manual=True)

    async def _finish_success(self) -> RunOutcome:
        self.run.current_phase = None
        landed = land(self)
        self.run.status = WorkflowStatus.COMPLETED
        self.run.machine_state = WorkflowMachineState.COMPLETED
        self.run.completed_at = utc_now()
        self.run.failure_reason = None
        self.state["landing"] = landed
        self.release()
        with self.hub.db.transaction():
            self.commit_point(
                CheckpointReason.STATUS_CHANGE,
                history=("workflow-completed", f"workflow {self.run.workflow_ref} completed"),
            )
            self.project_task("done", f"workflow {self.run.id} completed")
        self.events.emit(
            "workflow_completed",
            {
                "usage": self.state.get("usage"),
                "landing": landed,
                "decisions": len(self.run.decision_history),
            },
        )
        return RunOutcome(self.run.id, "completed", 0, None, "completed")

    # -- decisions -------------------------------------------------------------------------

    def record_decision(self, record: WorkflowDecisionRecord) -> None:
        self.run.decision_history.append(record)


def execute(request: ExecuteRequest, *, hub: ServiceHub | None = None) -> RunOutcome:
    """Validate, then run (synchronously) until the run ends or waits."""
    own = hub is None
    hub = hub or ServiceHub(request.project_root, env=request.env)
    try:
        execution = WorkflowExecution(hub, request)
        execution.prepare()
        return asyncio.run(execution.execute())
    finally:
        if own:
            hub.close()
