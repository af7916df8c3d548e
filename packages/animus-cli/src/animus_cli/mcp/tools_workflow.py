"""``animus.workflow.*``: runs, decisions, checkpoints, definitions and config validation.

The read tools use the run repository like ``animus workflow``; starting and steering runs
is in ``tools_runs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from animus_cli.mcp._models import ToolInput, ToolSpec
from animus_cli.mcp._pagination import PageInput, page_of, with_next_offset
from animus_protocol.envelope import NotFoundError

if TYPE_CHECKING:
    from animus_cli.mcp._context import ToolContext

__all__ = ["WORKFLOW_TOOLS"]

_RUN_ID = Field(None, description="Workflow run id (default: the run this server is scoped to).")


class WorkflowListInput(PageInput):
    status: str | None = Field(None, description="pending, running, paused, completed, ...")
    task_id: str | None = Field(None, description="Runs of this task.")


def workflow_list(ctx: ToolContext, args: WorkflowListInput) -> dict[str, Any]:
    page = ctx.hub(args.project_root).runs.list(
        args.status, args.task_id, limit=args.limit, offset=args.offset
    )
    return with_next_offset(page, "runs")


class RunIdInput(ToolInput):
    workflow_id: str | None = _RUN_ID


def workflow_get(ctx: ToolContext, args: RunIdInput) -> Any:
    return ctx.hub(args.project_root).runs.get(ctx.run_id(args.workflow_id))


def workflow_decisions(ctx: ToolContext, args: RunIdInput) -> Any:
    return ctx.hub(args.project_root).runs.decisions(ctx.run_id(args.workflow_id))


def workflow_checkpoints(ctx: ToolContext, args: RunIdInput) -> Any:
    return ctx.hub(args.project_root).runs.checkpoints(ctx.run_id(args.workflow_id))


class DefinitionsInput(PageInput):
    workflow_ref: str | None = Field(None, description="Only this workflow, resolved.")


def workflow_definitions(ctx: ToolContext, args: DefinitionsInput) -> Any:
    from animus_config import compile_workflow_config, compiled_workflow

    compiled = compile_workflow_config(ctx.hub(args.project_root).load_config())
    workflows = list(compiled.get("config", {}).get("workflows", []))
    if args.workflow_ref is None:
        return page_of(workflows, "workflows", args)
    found = compiled_workflow(compiled, args.workflow_ref)
    if found is None:
        known = [w.get("id") for w in workflows]
        raise NotFoundError(
            f"workflow {args.workflow_ref!r} is not defined",
            details={"workflow_ref": args.workflow_ref, "known": known},
            hint=f"defined workflows: {', '.join(str(k) for k in known)}",
        )
    return found


class ConfigValidateInput(ToolInput):
    pass


def workflow_config_validate(ctx: ToolContext, args: ConfigValidateInput) -> dict[str, Any]:
    loaded = ctx.hub(args.project_root).load_config()
    return {
        "valid": True,
        "sources": [str(p) for p in loaded.sources] or ["<embedded defaults>"],
        "workflows": [w.id for w in loaded.config.workflows],
        "warnings": [d.to_dict() for d in loaded.warnings],
    }


WORKFLOW_TOOLS = (
    ToolSpec("animus.workflow.get", "One workflow run in full.", RunIdInput, workflow_get),
    ToolSpec(
        "animus.workflow.list",
        "Workflow runs, newest first; filters status, task_id. Paged: limit, offset; result "
        "has runs, total, next_offset.",
        WorkflowListInput,
        workflow_list,
    ),
    ToolSpec(
        "animus.workflow.decisions",
        "The decisions a run made after each phase.",
        RunIdInput,
        workflow_decisions,
    ),
    ToolSpec(
        "animus.workflow.checkpoints",
        "Every checkpoint of a run, oldest first.",
        RunIdInput,
        workflow_checkpoints,
    ),
    ToolSpec(
        "animus.workflow.definitions",
        "The compiled workflow definitions (paged), or one resolved with workflow_ref.",
        DefinitionsInput,
        workflow_definitions,
    ),
    ToolSpec(
        "animus.workflow.config_validate",
        "Validate .animus/workflows.yaml; errors list every file:line problem "
        "(error.details.diagnostics).",
        ConfigValidateInput,
        workflow_config_validate,
    ),
)
