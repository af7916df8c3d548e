"""``animus workflow run|resume|pause|cancel`` and ``animus workflow phase approve|reject``.

``run`` validates the workflow here (a bad reference fails with file:line before anything
starts), then either spawns the ``animus-workflow-runner`` process detached in its own
session (output to ``runs/<id>/runner.log``) and prints the run id, or with ``--sync`` runs
it in this terminal with live progress lines on stderr. Exit codes with ``--sync`` follow
the runner: 0 completed, 1 failed/escalated/merge conflict, 3 paused or waiting on a manual
gate, 4 cancelled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import click

from animus_cli.commands._runs_common import parse_vars, say
from animus_cli.context import get_context
from animus_cli.output import emit

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = ["RUN_COMMANDS", "progress_line", "spawn_runner"]


def progress_line(record: dict[str, Any]) -> str | None:
    """One human line for a workflow event (None for the chatty ones)."""
    kind = record.get("kind")
    phase = record.get("phase_id") or ""
    p = record.get("payload") or {}
    if kind == "phase_event":
        inner = p.get("type")
        if inner == "tool_call":
            return f"  {phase}: tool {(p.get('payload') or {}).get('name')}"
        return None
    if kind == "phase_started":
        return f"▶ {phase} (attempt {p.get('attempt')}, {p.get('mode')})"
    if kind == "phase_decision":
        return f"  {phase}: {p.get('verdict')} — {p.get('reason')}"
    if kind == "phase_completed":
        commit = f" commit {str(p['commit'])[:10]}" if p.get("commit") else ""
        return f"✔ {phase}{commit}"
    if kind == "phase_failed":
        return f"✘ {phase}"
    if kind == "phase_skipped":
        return f"↷ {phase} skipped ({p.get('skip_if')})"
    if kind == "rework":
        return f"↺ rework {p.get('target')} ({p.get('count')}/{p.get('max_attempts')})"
    if kind in ("merge_completed", "merge_conflict", "budget_exceeded", "pr_opened"):
        return f"• {kind.replace('_', ' ')}: " + json.dumps(p, default=str)[:200]
    if kind in (
        "workflow_started",
        "workflow_resumed",
        "workflow_completed",
        "workflow_failed",
        "workflow_paused",
        "workflow_cancelled",
        "manual_pending",
    ):
        detail = p.get("reason") or p.get("instructions") or ""
        return f"■ {kind.replace('_', ' ')} {record.get('workflow_id')} {detail}".rstrip()
    return None


def _progress(record: dict[str, Any]) -> None:
    line = progress_line(record)
    if line is not None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def spawn_runner(hub: ServiceHub, args: list[str], run_id: str) -> int:
    """Start ``animus-workflow-runner execute ...`` detached; returns its pid."""
    run_dir = hub.paths.run_dir(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    log = (run_dir / "runner.log").open("ab")
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "animus_workflow_runner.cli",
                "execute",
                "--project-root",
                str(hub.project_root),
                *args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env=dict(os.environ),
            cwd=str(hub.project_root),
        )
    finally:
        log.close()
    return proc.pid


def _outcome_data(outcome: Any) -> dict[str, Any]:
    return {
        "workflow_id": outcome.workflow_id,
        "status": outcome.status,
        "machine_state": outcome.machine_state,
        "reason": outcome.reason,
        "exit_code": outcome.exit_code,
    }


def _run_sync(request: Any) -> int:
    from animus_workflow_runner.engine import execute

    ctx = get_context()
    if not ctx.json_output:
        request.listener = _progress
    outcome = execute(request, hub=ctx.hub)
    data = _outcome_data(outcome)
    emit(
        data,
        lambda _: say(
            f"{outcome.workflow_id}: {outcome.status}"
            + (f" — {outcome.reason}" if outcome.reason else "")
        ),
    )
    return int(outcome.exit_code)


@click.command("run")
@click.argument("workflow_ref")
@click.option("--task-id", default=None, help="Run the workflow on this task.")
@click.option("--subject", default=None, help="Or on a subject KIND:ID.")
@click.option("--var", "var_pairs", multiple=True, help="Workflow variable KEY=VALUE (repeatable).")
@click.option("--input-json", default=None, help="JSON input handed to the run.")
@click.option("--sync", is_flag=True, help="Run in this terminal and show progress.")
def run_command(
    *,
    workflow_ref: str,
    task_id: str | None,
    subject: str | None,
    var_pairs: tuple[str, ...],
    input_json: str | None,
    sync: bool,
) -> int:
    """Start a workflow run on a task or subject (detached unless --sync)."""
    from animus_protocol.envelope import InvalidInputError
    from animus_workflow_runner.engine import ExecuteRequest, WorkflowExecution, new_run_id

    ctx = get_context()
    hub = ctx.hub
    variables = parse_vars(var_pairs)
    payload = None
    if input_json is not None:
        try:
            payload = json.loads(input_json)
        except ValueError as exc:
            raise InvalidInputError(f"--input-json is not valid JSON: {exc}") from exc
    if bool(task_id) == bool(subject):
        raise InvalidInputError("give exactly one of --task-id ID or --subject KIND:ID")
    request = ExecuteRequest(
        project_root=hub.project_root,
        task_id=task_id,
        subject=subject,
        workflow_ref=workflow_ref,
        input=payload,
        vars=variables,
        env=hub.env,
        run_id=new_run_id(),
    )
    if sync:
        return _run_sync(request)
    # Validate here so a bad reference fails now, with file:line, not in a log file.
    WorkflowExecution(hub, request).validate_new()
    assert request.run_id is not None
    args = ["--workflow-ref", workflow_ref, "--run-id", request.run_id]
    args += ["--task-id", task_id] if task_id else ["--subject", str(subject)]
    for key, value in variables.items():
        args += ["--var", f"{key}={value}"]
    if input_json is not None:
        args += ["--input-json", input_json]
    pid = spawn_runner(hub, args, request.run_id)
    log = hub.paths.run_dir(request.run_id) / "runner.log"
    emit(
        {"workflow_id": request.run_id, "pid": pid, "log": str(log), "detached": True},
        lambda _: say(request.run_id or ""),
    )
    return 0


def _resume(run_id: str, *, force: bool, sync: bool) -> int:
    from animus_protocol.envelope import ConflictError
    from animus_workflow_runner.control import TERMINAL_STATUSES, runner_alive
    from animus_workflow_runner.engine import ExecuteRequest

    hub = get_context().hub
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
            hint="pause it first with 'animus workflow pause RUN'",
        )
    if sync:
        return _run_sync(
            ExecuteRequest(
                project_root=hub.project_root,
                workflow_id=run_id,
                resume=True,
                force=force,
                env=hub.env,
            )
        )
    args = ["--workflow-id", run_id, "--resume"] + (["--force"] if force else [])
    pid = spawn_runner(hub, args, run_id)
    emit(
        {"workflow_id": run_id, "pid": pid, "detached": True},
        lambda _: say(f"resuming {run_id} (runner pid {pid})"),
    )
    return 0


@click.command("resume")
@click.argument("workflow_id")
@click.option("--force", is_flag=True, help="Re-run interrupted side-effecting work.")
@click.option("--sync", is_flag=True, help="Run in this terminal and show progress.")
def resume_command(workflow_id: str, force: bool, sync: bool) -> int:
    """Resume a paused, interrupted or waiting run (committed steps are not repeated)."""
    return _resume(workflow_id, force=force, sync=sync)


def _request(workflow_id: str, action: str) -> None:
    from animus_workflow_runner.control import request_action, runner_alive, settle_offline

    hub = get_context().hub
    run = request_action(hub, workflow_id, action)
    settled = None
    if not runner_alive(run):
        settled = settle_offline(hub, workflow_id, action)
    emit(
        {
            "workflow_id": workflow_id,
            "requested_action": action,
            "runner_running": settled is None,
            "status": settled.status.value if settled is not None else run.status.value,
        },
        lambda _: say(
            f"{action} requested for {workflow_id}"
            + (
                f"; it is now {settled.status.value}"
                if settled is not None
                else "; the runner acts on it at its next boundary"
            )
        ),
    )


@click.command("pause")
@click.argument("workflow_id")
def pause_command(workflow_id: str) -> None:
    """Pause a run at its next phase boundary (the agent session is stopped and resumable)."""
    _request(workflow_id, "pause")


@click.command("cancel")
@click.argument("workflow_id")
def cancel_command(workflow_id: str) -> None:
    """Cancel a run (its task becomes cancelled unless already done)."""
    _request(workflow_id, "cancel")


@click.group("phase")
def phase_group() -> None:
    """Manual gates: approve or reject the phase a run waits on."""


def _gate(
    workflow_id: str, phase: str | None, feedback: str | None, approve: bool, sync: bool
) -> int:
    from animus_workflow_runner.control import record_manual_verdict

    hub = get_context().hub
    _, waiting = record_manual_verdict(
        hub, workflow_id, approve=approve, phase_id=phase, feedback=feedback
    )
    if not sync and not get_context().json_output:
        say(f"{'approved' if approve else 'rejected'} {waiting} of {workflow_id}")
    return _resume(workflow_id, force=False, sync=sync)


@phase_group.command("approve")
@click.argument("workflow_id")
@click.option(
    "--phase", default=None, help="The gate's phase id (checked against the waiting one)."
)
@click.option("--feedback", default=None, help="Approval note.")
@click.option("--sync", is_flag=True, help="Resume in this terminal.")
def approve_command(workflow_id: str, phase: str | None, feedback: str | None, sync: bool) -> int:
    """Approve the manual gate and resume the run."""
    return _gate(workflow_id, phase, feedback, True, sync)


@phase_group.command("reject")
@click.argument("workflow_id")
@click.option(
    "--phase", default=None, help="The gate's phase id (checked against the waiting one)."
)
@click.option("--feedback", default=None, help="Why: becomes the rework feedback.")
@click.option("--sync", is_flag=True, help="Resume in this terminal.")
def reject_command(workflow_id: str, phase: str | None, feedback: str | None, sync: bool) -> int:
    """Reject the manual gate: the run routes per on_verdict.rework with the feedback."""
    return _gate(workflow_id, phase, feedback, False, sync)


RUN_COMMANDS: list[click.Command] = [
    run_command,
    resume_command,
    pause_command,
    cancel_command,
    phase_group,
]
