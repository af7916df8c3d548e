"""``animus.queue.*``: the dispatch queue, the same calls as ``animus queue``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from animus_cli.commands._daemon_client import nudge_daemon
from animus_cli.commands._runs_common import one_of, parse_subject
from animus_cli.mcp._models import ToolInput, ToolSpec
from animus_cli.mcp._pagination import PageInput, with_next_offset

if TYPE_CHECKING:
    from animus_cli.mcp._context import ToolContext

__all__ = ["QUEUE_TOOLS"]


class QueueListInput(PageInput):
    status: str | None = Field(
        None,
        description="pending, assigned, held, completed, failed, cancelled, dropped or all "
        "(comma-separated; default: still queued).",
    )


def queue_list(ctx: ToolContext, args: QueueListInput) -> dict[str, Any]:
    page = ctx.hub(args.project_root).queue.list(args.status, limit=args.limit, offset=args.offset)
    return with_next_offset(page, "entries")


class QueueStatsInput(ToolInput):
    pass


def queue_stats(ctx: ToolContext, args: QueueStatsInput) -> Any:
    return ctx.hub(args.project_root).queue.stats()


class QueueEnqueueInput(ToolInput):
    task_id: str | None = Field(None, description="Queue this task.")
    requirement_id: str | None = Field(None, description="Queue this requirement.")
    subject: str | None = Field(None, description="Queue any subject as KIND:ID.")
    title: str | None = Field(None, description="Queue a custom subject with this title.")
    description: str | None = Field(None, description="Description of a title subject.")
    workflow_ref: str | None = Field(None, description="Workflow to run (default: project's).")
    priority: str | None = Field(None, description="critical, high, medium or low.")
    input: Any = Field(None, description="Structured input for the run (any JSON).")
    vars: dict[str, str] = Field(default_factory=dict, description="Run variables.")
    run_at: str | None = Field(None, description="Do not dispatch before this RFC 3339 time.")


def queue_enqueue(ctx: ToolContext, args: QueueEnqueueInput) -> Any:
    chosen = one_of(
        {
            "task_id": args.task_id,
            "requirement_id": args.requirement_id,
            "subject": args.subject,
            "title": args.title,
        },
        command="queue enqueue",
    )
    queue = ctx.hub(args.project_root).queue
    common: dict[str, Any] = {
        "workflow_ref": args.workflow_ref,
        "priority": args.priority,
        "input": args.input,
        "vars": dict(args.vars),
        "run_at": args.run_at,
    }
    if chosen == "title":
        entry = queue.enqueue_custom(str(args.title), args.description, **common)
    else:
        if chosen == "task_id":
            kind, ident = "task", str(args.task_id)
        elif chosen == "requirement_id":
            kind, ident = "requirement", str(args.requirement_id)
        else:
            kind, ident = parse_subject(str(args.subject))
        entry = queue.enqueue_subject(kind, ident, **common)
    _nudge(ctx, args)
    return entry


def _nudge(ctx: ToolContext, args: ToolInput) -> None:
    """Wake a running daemon so it dispatches now (silent when none is up)."""
    nudge_daemon(ctx.root(args.project_root), "mcp")


class QueueTargetsInput(ToolInput):
    entry_ids: list[str] = Field(default_factory=list, description="Queue entry ids (QE-...).")
    subject_id: str | None = Field(None, description="The entries of this subject.")
    all: bool = Field(False, description="Every queued entry (a dry run unless yes).")
    yes: bool = Field(False, description="Apply (with all; drop always needs it).")


class QueueHoldInput(QueueTargetsInput):
    reason: str | None = Field(None, description="Why (shown in queue list).")


def queue_hold(ctx: ToolContext, args: QueueHoldInput) -> Any:
    return ctx.hub(args.project_root).queue.hold(
        tuple(args.entry_ids),
        subject_id=args.subject_id,
        all=args.all,
        reason=args.reason,
        dry_run=args.all and not args.yes,
    )


def queue_release(ctx: ToolContext, args: QueueTargetsInput) -> Any:
    result = ctx.hub(args.project_root).queue.release(
        tuple(args.entry_ids),
        subject_id=args.subject_id,
        all=args.all,
        dry_run=args.all and not args.yes,
    )
    if result.changed and not result.dry_run:
        _nudge(ctx, args)
    return result


def queue_drop(ctx: ToolContext, args: QueueTargetsInput) -> Any:
    return ctx.hub(args.project_root).queue.drop(
        tuple(args.entry_ids), subject_id=args.subject_id, all=args.all, dry_run=not args.yes
    )


class QueueReorderInput(ToolInput):
    subject_ids: list[str] = Field(
        ..., min_length=1, description="Subjects whose pending entries move to the front."
    )


def queue_reorder(ctx: ToolContext, args: QueueReorderInput) -> dict[str, Any]:
    result = ctx.hub(args.project_root).queue.reorder(tuple(args.subject_ids))
    return {"reordered_count": len(result.changed), "entry_ids": result.changed}


QUEUE_TOOLS = (
    ToolSpec(
        "animus.queue.list",
        "Queued entries in dispatch order. Paged: limit (25, max 200), offset; result has "
        "entries, total, next_offset.",
        QueueListInput,
        queue_list,
    ),
    ToolSpec("animus.queue.stats", "Queue counts by state.", QueueStatsInput, queue_stats),
    ToolSpec(
        "animus.queue.enqueue",
        "Put a subject on the queue: exactly one of task_id, requirement_id, subject "
        "(KIND:ID) or title; optional workflow_ref, priority, input, vars, run_at.",
        QueueEnqueueInput,
        queue_enqueue,
        read_only=False,
    ),
    ToolSpec(
        "animus.queue.hold",
        "Hold pending entries (kept, never leased) by entry_ids, subject_id or all.",
        QueueHoldInput,
        queue_hold,
        read_only=False,
    ),
    ToolSpec(
        "animus.queue.release",
        "Release held entries back to pending (they keep their place).",
        QueueTargetsInput,
        queue_release,
        read_only=False,
    ),
    ToolSpec(
        "animus.queue.drop",
        "Drop pending or held entries; a dry run unless yes is true.",
        QueueTargetsInput,
        queue_drop,
        read_only=False,
    ),
    ToolSpec(
        "animus.queue.reorder",
        "Move these subjects' pending entries to the front, in the order given.",
        QueueReorderInput,
        queue_reorder,
        read_only=False,
    ),
)
