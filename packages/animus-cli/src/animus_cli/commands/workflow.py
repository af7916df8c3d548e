"""``animus workflow``: runs (list, get, decisions, checkpoints, prune, delete) and the
workflow configuration (get, validate, compile).

Starting and steering runs (``run``, ``resume``, ``pause``, ``cancel``, ``phase``) live in
``workflow_run`` beside the workflow runner and are attached to this group at the end.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from animus_cli.commands._runs_common import dry_run_note, positive, say
from animus_cli.context import get_context
from animus_cli.output import emit, print_kv, print_table

__all__ = ["command"]

_RUN_COLUMNS = ["id", "status", "task_id", "workflow_ref", "phase_id", "started_at"]


@click.group("workflow")
def command() -> None:
    """Workflow runs and definitions: run, resume, pause, cancel, phase, list, get, decisions,
    checkpoints, prune, delete, config."""


def _run_id(positional: str | None, option: str | None) -> str:
    from animus_protocol.envelope import InvalidInputError

    value = positional or option
    if not value:
        raise InvalidInputError(
            "a workflow run id is required",
            hint="pass it as an argument or with --id; list runs with 'animus workflow list'",
        )
    return value


def _id_params(func: Any) -> Any:
    func = click.option("--id", "--workflow-id", "id_option", default=None, help="Run id.")(func)
    return click.argument("workflow_id", required=False)(func)


@command.command("list")
@click.option("--status", default=None, help="pending, running, paused, completed, failed, ...")
@click.option("--task-id", default=None, help="Runs of this task.")
@click.option("--limit", type=int, default=50, show_default=True, callback=positive)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
def list_runs(status: str | None, task_id: str | None, limit: int, offset: int) -> None:
    """Workflow runs, newest first."""
    page = get_context().hub.runs.list(status, task_id, limit=limit, offset=offset)

    def human(_: Any) -> None:
        print_table([r.model_dump() for r in page.runs], _RUN_COLUMNS, empty="(no runs)")
        if page.total > len(page.runs):
            say(f"{len(page.runs)} of {page.total} shown (use --limit/--offset)")

    emit(page, human)


@command.command("get")
@_id_params
def get(workflow_id: str | None, id_option: str | None) -> None:
    """One run in full."""
    run = get_context().hub.runs.get(_run_id(workflow_id, id_option))

    def human(_: Any) -> None:
        print_kv(
            {
                "id": run.id,
                "status": run.status.value,
                "subject": run.subject.key(),
                "workflow_ref": run.workflow_ref or "",
                "machine_state": run.machine_state.value,
                "current_phase": run.current_phase or "",
                "started_at": run.started_at,
                "completed_at": run.completed_at,
                "failure_reason": run.failure_reason or "",
                "decisions": len(run.decision_history),
                "checkpoints": run.checkpoint_metadata.checkpoint_count,
            }
        )
        if run.phases:
            print_table(
                [p.to_wire() for p in run.phases],
                ["phase_id", "status", "attempt", "started_at", "completed_at"],
                title="phases",
            )

    emit(run, human)


@command.command("decisions")
@_id_params
def decisions(workflow_id: str | None, id_option: str | None) -> None:
    """The decisions a run made after each phase."""
    records = get_context().hub.runs.decisions(_run_id(workflow_id, id_option))
    emit(
        records,
        lambda _: print_table(
            [r.to_wire() for r in records],
            ["timestamp", "phase_id", "decision", "source", "confidence", "reason"],
            empty="(no decisions yet)",
        ),
    )


@command.group("checkpoints")
def checkpoints() -> None:
    """A run's checkpoints (state snapshots taken at start, pause, resume, ...)."""


@checkpoints.command("list")
@_id_params
def checkpoints_list(workflow_id: str | None, id_option: str | None) -> None:
    """Every checkpoint of a run, oldest first."""
    items = get_context().hub.runs.checkpoints(_run_id(workflow_id, id_option))
    emit(
        items,
        lambda _: print_table(
            [c.to_wire() for c in items],
            ["number", "timestamp", "reason", "phase_id", "machine_state", "status"],
            empty="(no checkpoints)",
        ),
    )


@checkpoints.command("get")
@_id_params
@click.option("--number", type=int, default=None, help="Checkpoint number (default: latest).")
def checkpoints_get(workflow_id: str | None, id_option: str | None, number: int | None) -> None:
    """One checkpoint with its snapshot."""
    record = get_context().hub.runs.checkpoint(_run_id(workflow_id, id_option), number)

    def human(_: Any) -> None:
        print_kv({"workflow_id": record.workflow_id, **record.checkpoint.to_wire()})
        if record.snapshot is not None:
            say("snapshot:")
            say(json.dumps(record.snapshot, indent=2, ensure_ascii=False))

    emit(record, human)


@checkpoints.command("prune")
@_id_params
@click.option(
    "--keep-last",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Checkpoints to keep per phase.",
)
@click.option("--yes", is_flag=True, help="Delete (otherwise only show what would go).")
def checkpoints_prune(
    workflow_id: str | None, id_option: str | None, keep_last: int, yes: bool
) -> None:
    """Delete all but the newest --keep-last checkpoints of each phase. Dry run unless --yes."""
    run_id = _run_id(workflow_id, id_option)
    numbers = get_context().hub.runs.prune_checkpoints(run_id, keep_last=keep_last, dry_run=not yes)

    def human(_: Any) -> None:
        listed = ", ".join(str(n) for n in numbers) or "none"
        if yes:
            say(f"deleted checkpoints of {run_id}: {listed}")
        else:
            dry_run_note(f"would delete checkpoints of {run_id}: {listed}")

    emit({"workflow_id": run_id, "numbers": numbers, "dry_run": not yes}, human)


@command.command("prune")
@click.option("--older-than", default=None, help="Age such as 30d or 12h (bare number = days).")
@click.option("--keep-last", type=click.IntRange(min=0), default=None, help="Keep the newest N.")
@click.option("--status", default=None, help="Only this terminal status.")
@click.option("--yes", is_flag=True, help="Delete (otherwise only show what would go).")
def prune(older_than: str | None, keep_last: int | None, status: str | None, yes: bool) -> None:
    """Delete finished runs (completed, failed, escalated, cancelled). Dry run unless --yes.

    Without --older-than and --keep-last, runs older than 30 days are selected.
    """
    if older_than is None and keep_last is None:
        older_than = "30d"
    plan = get_context().hub.runs.prune(
        older_than=older_than, keep_last=keep_last, status=status, dry_run=not yes
    )

    def human(_: Any) -> None:
        print_table(
            [r.model_dump() for r in plan.runs],
            ["id", "status", "task_id", "started_at", "completed_at"],
            empty="(nothing to prune)",
        )
        if plan.dry_run:
            dry_run_note(f"would delete {len(plan.runs)} run(s), keep {plan.kept}")
        else:
            say(f"deleted {len(plan.runs)} run(s), kept {plan.kept}")

    emit(plan, human)


@command.command("delete")
@_id_params
@click.option("--yes", is_flag=True, help="Delete (otherwise only show what would go).")
@click.option("--force", is_flag=True, help="Also delete a run that is still active.")
def delete(workflow_id: str | None, id_option: str | None, yes: bool, force: bool) -> None:
    """Delete one run and its checkpoints. Dry run unless --yes."""
    from animus_protocol.envelope import ConflictError

    hub = get_context().hub
    run_id = _run_id(workflow_id, id_option)
    if yes:
        summary = hub.runs.delete(run_id, force=force)
        emit(
            {"deleted": True, "dry_run": False, "run": summary},
            lambda _: say(f"deleted workflow run {run_id}"),
        )
        return
    summary = hub.runs.describe(run_id)
    if summary.status in ("pending", "running", "paused") and not force:
        raise ConflictError(
            f"workflow run {run_id} is {summary.status}; refusing to delete an active run",
            details={"workflow_id": run_id, "status": summary.status},
            hint="cancel it first, or pass --force if its process is gone",
        )
    emit(
        {"deleted": False, "dry_run": True, "run": summary},
        lambda _: dry_run_note(f"would delete workflow run {run_id} ({summary.status})"),
    )


@command.group("config")
def config() -> None:
    """The project's workflow configuration (.animus/workflows.yaml, workflows/*.yaml)."""


@config.command("get")
@click.option("--workflow", "workflow_ref", default=None, help="Only this workflow, resolved.")
def config_get(workflow_ref: str | None) -> None:
    """The compiled configuration (or one resolved workflow)."""
    from animus_config import compile_workflow_config, compiled_workflow
    from animus_protocol.envelope import NotFoundError

    compiled = compile_workflow_config(get_context().hub.load_config())
    data: Any = compiled
    if workflow_ref is not None:
        data = compiled_workflow(compiled, workflow_ref)
        if data is None:
            known = [w.get("id") for w in compiled.get("config", {}).get("workflows", [])]
            raise NotFoundError(
                f"workflow {workflow_ref!r} is not defined",
                details={"workflow_ref": workflow_ref, "known": known},
                hint=f"defined workflows: {', '.join(str(k) for k in known)}",
            )
    emit(data, lambda d: say(json.dumps(d, indent=2, ensure_ascii=False)))


@config.command("validate")
def config_validate() -> None:
    """Check the YAML; print every problem as file:line:col: field: message (exit 2)."""
    from animus_config import ConfigError

    ctx = get_context()
    try:
        loaded = ctx.hub.load_config()
    except ConfigError as exc:
        if ctx.json_output:
            raise
        for diagnostic in exc.diagnostics:
            sys.stderr.write(f"{diagnostic}\n")
        sys.stderr.write(f"{len(exc.errors)} error(s); fix the listed lines and run again\n")
        raise click.exceptions.Exit(2) from None
    sources = [str(p) for p in loaded.sources] or ["<embedded defaults>"]
    workflows = [w.id for w in loaded.config.workflows]
    result = {
        "valid": True,
        "sources": sources,
        "workflows": workflows,
        "warnings": [d.to_dict() for d in loaded.warnings],
    }

    def human(_: Any) -> None:
        for warning in loaded.warnings:
            sys.stderr.write(f"{warning}\n")
        say(
            f"ok: {len(workflows)} workflow(s) from {', '.join(sources)}"
            + (f" ({len(loaded.warnings)} warning(s))" if loaded.warnings else "")
        )

    emit(result, human)


@config.command("compile")
def config_compile() -> None:
    """Validate and write the compiled configuration into the runtime directory."""
    from animus_config import compile_workflow_config, write_compiled

    hub = get_context().hub
    compiled = compile_workflow_config(hub.load_config())
    target = write_compiled(hub.paths, compiled)
    workflows = [w.get("id") for w in compiled.get("config", {}).get("workflows", [])]
    emit(
        {"path": str(target), "schema": compiled.get("schema"), "workflows": workflows},
        lambda _: say(f"compiled {len(workflows)} workflow(s) to {target}"),
    )


def _attach_run_commands() -> None:
    from animus_cli.commands.workflow_run import RUN_COMMANDS

    for run_command in RUN_COMMANDS:
        command.add_command(run_command)


_attach_run_commands()
