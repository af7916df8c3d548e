"""Starting and steering runs: ``animus.workflow.run|pause|resume|cancel|phase_*``.

The same calls as ``animus workflow run|resume|pause|cancel|phase``: ``sync`` runs the
workflow inside this server's worker and returns its outcome; otherwise the runner process
is spawned detached and the run id returned at once.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import Field

from animus_cli.mcp._models import ToolInput, ToolSpec
from animus_protocol.envelope import ConflictError, InvalidInputError

if TYPE_CHECKING:
    from animus_cli.mcp._context import ToolContext
    from animus_core.hub import ServiceHub

__all__ = ["RUN_TOOLS"]

_RUN_ID = Field(None, description="Workflow run id (default: the run this server is scoped to).")
_SYNC = Field(False, description="Wait for the run to stop (else start it detached).")


def _outcome(outcome: Any) -> dict[str, Any]:
    return {
        "workflow_id": outcome.workflow_id,
        "status": outcome.status,
        "machine_state": outcome.machine_state,
        "reason": outcome.reason,
        "exit_code": outcome.exit_code,
    }


class WorkflowRunInput(ToolInput):
    workflow_ref: str = Field(..., min_length=1, description="The workflow to run, e.g. standard.")
    task_id: str | None = Field(None, description="Run it on this task.")
    subject: str | None = Field(None, description="Or on a subject KIND:ID.")
    input: Any = Field(None, description="JSON input handed to the run.")
    vars: dict[str, str] = Field(default_factory=dict, description="Workflow variables.")
    sync: bool = _SYNC


def workflow_run(ctx: ToolContext, args: WorkflowRunInput) -> dict[str, Any]:
    from animus_cli.commands.workflow_run import spawn_runner
    from animus_workflow_runner.definition import load_workflow
    from animus_workflow_runner.engine import (
        ExecuteRequest,
        WorkflowExecution,
        execute,
        new_run_id,
    )

    if bool(args.task_id) == bool(args.subject):
        raise InvalidInputError(
            "give exactly one of task_id or subject",
            hint="e.g. task_id: TASK-001, or subject: requirement:REQ-001",
        )
    hub = ctx.hub(args.project_root)
    request = ExecuteRequest(
        project_root=hub.project_root,
        task_id=args.task_id,
        subject=args.subject,
        workflow_ref=args.workflow_ref,
        input=args.input,
        vars=dict(args.vars),
        env=hub.env,
        run_id=new_run_id(),
    )
    if args.sync:
        return _outcome(execute(request, hub=hub))
    # Validate now so a bad reference is this call's error, not a line in a log file.
    WorkflowExecution(hub, request)._resolve_subject()
    load_workflow(hub.project_root, args.workflow_ref, env=hub.env, variables=dict(args.vars))
    run_id = str(request.run_id)
    argv = ["--workflow-ref", args.workflow_ref, "--run-id", run_id]
    argv += ["--task-id", args.task_id] if args.task_id else ["--subject", str(args.subject)]
    for key, value in args.vars.items():
        argv += ["--var", f"{key}={value}"]
    if args.input is not None:
        argv += ["--input-json", json.dumps(args.input)]
    pid = spawn_runner(hub, argv, run_id)
    log = hub.paths.run_dir(run_id) / "runner.log"
    return {"workflow_id": run_id, "pid": pid, "log": str(log), "detached": True}


def _resume(hub: ServiceHub, run_id: str, *, force: bool, sync: bool) -> dict[str, Any]:
    from animus_cli.commands.workflow_run import spawn_runner
    from animus_workflow_runner.control import TERMINAL_STATUSES, runner_alive
    from animus_workflow_runner.engine import ExecuteRequest, execute

    run = hub.runs.get(run_id)
    if run.status in TERMINAL_STATUSES and run.machine_state.value != "merge-conflict":
        raise ConflictError(
            f"workflow run {run_id} is already {run.status.value}; it cannot resume",
            details={"workflow_id": run_id, "status": run.status.value},
        )
    if runner_alive(run):
        raise ConflictError(
            f"workflow run {run_id} is still being run by its runner process",
            details={"workflow_id": run_id},
            hint="pause it first with animus.workflow.pause",
        )
    if sync:
        request = ExecuteRequest(
            project_root=hub.project_root, workflow_id=run_id, resume=True, force=force, env=hub.env
        )
        return _outcome(execute(request, hub=hub))
    pid = spawn_runner(hub, ["--workflow-id", run_id, "--resume"] + (["--force"] * force), run_id)
    return {"workflow_id": run_id, "pid": pid, "detached": True}


class ResumeInput(ToolInput):
    workflow_id: str | None = _RUN_ID
    force: bool = Field(False, description="Re-run interrupted side-effecting work.")
    sync: bool = _SYNC


def workflow_resume(ctx: ToolContext, args: ResumeInput) -> dict[str, Any]:
    hub = ctx.hub(args.project_root)
    return _resume(hub, ctx.run_id(args.workflow_id), force=args.force, sync=args.sync)


class RunActionInput(ToolInput):
    workflow_id: str | None = _RUN_ID


def _request(ctx: ToolContext, args: RunActionInput, action: str) -> dict[str, Any]:
    from animus_workflow_runner.control import request_action, runner_alive, settle_offline

    hub = ctx.hub(args.project_root)
    run_id = ctx.run_id(args.workflow_id)
    run = request_action(hub, run_id, action, by="mcp")
    settled = None if runner_alive(run) else settle_offline(hub, run_id, action)
    return {
        "workflow_id": run_id,
        "requested_action": action,
        "runner_running": settled is None,
        "status": (settled or run).status.value,
    }


def workflow_pause(ctx: ToolContext, args: RunActionInput) -> dict[str, Any]:
    return _request(ctx, args, "pause")


def workflow_cancel(ctx: ToolContext, args: RunActionInput) -> dict[str, Any]:
    return _request(ctx, args, "cancel")


class GateInput(ToolInput):
    workflow_id: str | None = _RUN_ID
    phase_id: str | None = Field(None, description="The gate's phase (checked if given).")
    feedback: str | None = Field(None, description="Note; on reject it becomes rework feedback.")
    sync: bool = _SYNC


def _gate(ctx: ToolContext, args: GateInput, *, approve: bool) -> dict[str, Any]:
    from animus_workflow_runner.control import record_manual_verdict

    hub = ctx.hub(args.project_root)
    run_id = ctx.run_id(args.workflow_id)
    record_manual_verdict(
        hub, run_id, approve=approve, phase_id=args.phase_id, feedback=args.feedback
    )
    return _resume(hub, run_id, force=False, sync=args.sync)


def workflow_phase_approve(ctx: ToolContext, args: GateInput) -> dict[str, Any]:
    return _gate(ctx, args, approve=True)


def workflow_phase_reject(ctx: ToolContext, args: GateInput) -> dict[str, Any]:
    return _gate(ctx, args, approve=False)


RUN_TOOLS = (
    ToolSpec(
        "animus.workflow.run",
        "Start a workflow run on a task (task_id) or subject (KIND:ID). sync=true waits and "
        "returns the outcome (status, exit_code); otherwise the run id of a detached runner.",
        WorkflowRunInput,
        workflow_run,
        read_only=False,
    ),
    ToolSpec(
        "animus.workflow.pause",
        "Pause a run at its next phase boundary.",
        RunActionInput,
        workflow_pause,
        read_only=False,
    ),
    ToolSpec(
        "animus.workflow.resume",
        "Resume a paused, interrupted or waiting run (committed steps are not repeated).",
        ResumeInput,
        workflow_resume,
        read_only=False,
    ),
    ToolSpec(
        "animus.workflow.cancel",
        "Cancel a run (its task becomes cancelled unless already done).",
        RunActionInput,
        workflow_cancel,
        read_only=False,
    ),
    ToolSpec(
        "animus.workflow.phase_approve",
        "Approve the manual gate a run waits on, then resume it.",
        GateInput,
        workflow_phase_approve,
        read_only=False,
    ),
    ToolSpec(
        "animus.workflow.phase_reject",
        "Reject the manual gate a run waits on (rework with the feedback), then resume it.",
        GateInput,
        workflow_phase_reject,
        read_only=False,
    ),
)
