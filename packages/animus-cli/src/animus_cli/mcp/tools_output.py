"""``animus.output.*``: what a run produced, the same files ``animus output`` reads."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import Field

from animus_cli.mcp._models import ToolInput, ToolSpec
from animus_cli.mcp._pagination import PageInput, page_of
from animus_protocol.envelope import NotFoundError

if TYPE_CHECKING:
    from animus_cli.mcp._context import ToolContext

__all__ = ["OUTPUT_TOOLS"]

_RUN_ID = Field(None, description="Workflow run id (default: the run this server is scoped to).")


class OutputInput(ToolInput):
    workflow_id: str | None = _RUN_ID


class OutputRunInput(OutputInput):
    phase_id: str | None = Field(None, description="Only this phase.")


def _outputs(
    ctx: ToolContext, args: OutputInput | OutputArtifactsInput
) -> tuple[str, dict[str, dict[str, Any]]]:
    from animus_workflow_runner.outputs import read_phase_outputs

    run_id = ctx.run_id(args.workflow_id)
    hub = ctx.hub(args.project_root)
    hub.runs.get(run_id)  # not_found for an unknown run
    return run_id, read_phase_outputs(hub.paths.phase_outputs_dir(run_id))


def output_run(ctx: ToolContext, args: OutputRunInput) -> dict[str, Any]:
    """``animus output read``: each completed phase's output text, attempt and verdict."""
    run_id, outputs = _outputs(ctx, args)
    if args.phase_id is not None and args.phase_id not in outputs:
        raise NotFoundError(
            f"run {run_id} has no completed output for phase {args.phase_id!r}",
            details={"workflow_id": run_id, "phase_id": args.phase_id, "phases": sorted(outputs)},
            hint=f"phases with output: {', '.join(sorted(outputs)) or '(none yet)'}",
        )
    return {
        k: {"attempt": v.get("attempt"), "verdict": v.get("verdict"), "output": v.get("output", "")}
        for k, v in outputs.items()
        if args.phase_id is None or k == args.phase_id
    }


def output_phase_outputs(ctx: ToolContext, args: OutputInput) -> dict[str, Any]:
    """``animus output phase-outputs``: every completed phase output record."""
    return _outputs(ctx, args)[1]


class OutputTailInput(PageInput):
    workflow_id: str | None = _RUN_ID
    phase_id: str | None = Field(None, description="Only events of this phase.")


def output_tail(ctx: ToolContext, args: OutputTailInput) -> dict[str, Any]:
    """The run's workflow events (``animus output jsonl``), newest page first."""
    from animus_workflow_runner.events import EVENTS_FILE

    run_id = ctx.run_id(args.workflow_id)
    hub = ctx.hub(args.project_root)
    hub.runs.get(run_id)
    path = hub.paths.run_dir(run_id) / EVENTS_FILE
    records: list[dict[str, Any]] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn last line while the runner writes
            if isinstance(record, dict) and (
                args.phase_id is None or record.get("phase_id") == args.phase_id
            ):
                records.append(record)
    page = page_of(records[::-1], "events", args, {"workflow_id": run_id})
    page["events"].reverse()
    return page


class OutputArtifactsInput(PageInput):
    workflow_id: str | None = _RUN_ID


def output_artifacts(ctx: ToolContext, args: OutputArtifactsInput) -> dict[str, Any]:
    """Files under the run's directory (logs, phase outputs, session files) and the commits
    its phases recorded."""
    run_id, outputs = _outputs(ctx, args)
    run_dir = ctx.hub(args.project_root).paths.run_dir(run_id)
    files = (
        [
            {"path": str(p.relative_to(run_dir)), "bytes": p.stat().st_size}
            for p in sorted(run_dir.rglob("*"))
            if p.is_file()
        ]
        if run_dir.is_dir()
        else []
    )
    commits = [
        {"phase_id": k, "commit": v["commit"]} for k, v in outputs.items() if v.get("commit")
    ]
    return page_of(files, "files", args, {"run_dir": str(run_dir), "commits": commits})


OUTPUT_TOOLS = (
    ToolSpec(
        "animus.output.run",
        "The output text of each completed phase of a run (attempt, verdict, output).",
        OutputRunInput,
        output_run,
    ),
    ToolSpec(
        "animus.output.tail",
        "A run's workflow events, newest page first (limit, offset, phase_id).",
        OutputTailInput,
        output_tail,
    ),
    ToolSpec(
        "animus.output.phase_outputs",
        "Every completed phase output record of a run (verdict, decision, commit, usage).",
        OutputInput,
        output_phase_outputs,
    ),
    ToolSpec(
        "animus.output.artifacts",
        "Files a run wrote under its run directory (paged) and the commits of its phases.",
        OutputArtifactsInput,
        output_artifacts,
    ),
)
