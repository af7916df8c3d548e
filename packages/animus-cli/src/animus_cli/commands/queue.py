"""``animus queue``: enqueue, list, stats, hold, release, drop, reorder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from animus_cli.commands._runs_common import (
    dry_run_note,
    one_of,
    parse_json_option,
    parse_subject,
    parse_vars,
    positive,
    say,
)
from animus_cli.context import get_context
from animus_cli.output import emit, print_kv, print_table

if TYPE_CHECKING:
    from animus_core.queue import BulkChange, QueueEntry

__all__ = ["command"]

_COLUMNS = ["entry_id", "subject", "kind", "status", "priority", "workflow_ref", "requested_at"]


@click.group("queue")
def command() -> None:
    """The dispatch queue: enqueue, list, stats, hold, release, drop, reorder.

    Entries are leased in priority order, then first come first served; a subject has at
    most one queued entry and one active run.
    """


def _print_entry(entry: QueueEntry) -> None:
    print_kv({**entry.summary(), "trigger_source": entry.trigger_source or ""})


@command.command("list")
@click.option(
    "--status",
    default=None,
    help="pending, assigned, held, completed, failed, cancelled, dropped, or all "
    "(comma-separated; default: still queued).",
)
@click.option("--limit", type=int, default=50, show_default=True, callback=positive)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
def list_entries(status: str | None, limit: int, offset: int) -> None:
    """Queued entries in dispatch order."""
    page = get_context().hub.queue.list(status, limit=limit, offset=offset)

    def human(_: Any) -> None:
        print_table([e.summary() for e in page.entries], _COLUMNS, empty="(queue is empty)")
        if page.total > len(page.entries):
            say(f"{len(page.entries)} of {page.total} shown (use --limit/--offset)")

    emit(page, human)


@command.command("stats")
def stats() -> None:
    """Counts by state (total = pending + assigned + held)."""
    result = get_context().hub.queue.stats()
    emit(result, lambda data: print_kv(data.model_dump()))


@command.command("enqueue")
@click.option("--task-id", default=None, help="Queue this task.")
@click.option("--requirement-id", default=None, help="Queue this requirement.")
@click.option("--subject", "subject", default=None, help="Queue any subject as KIND:ID.")
@click.option("--title", default=None, help="Queue a custom subject with this title.")
@click.option("--description", default=None, help="Description of a --title subject.")
@click.option("--workflow-ref", default=None, help="Workflow to run (default: the project's).")
@click.option("--priority", default=None, help="critical, high, medium or low.")
@click.option("--input-json", default=None, help="Structured input for the run (JSON).")
@click.option("--var", "vars_", multiple=True, metavar="K=V", help="A run variable (repeat).")
@click.option("--run-at", default=None, help="Do not dispatch before this RFC 3339 time.")
def enqueue(
    *,
    task_id: str | None,
    requirement_id: str | None,
    subject: str | None,
    title: str | None,
    description: str | None,
    workflow_ref: str | None,
    priority: str | None,
    input_json: str | None,
    vars_: tuple[str, ...],
    run_at: str | None,
) -> None:
    """Put a subject on the queue (one queued entry per subject)."""
    chosen = one_of(
        {
            "--task-id": task_id,
            "--requirement-id": requirement_id,
            "--subject": subject,
            "--title": title,
        },
        command="queue enqueue",
    )
    payload = parse_json_option(input_json, "--input-json")
    variables = parse_vars(vars_)
    queue = get_context().hub.queue
    if chosen == "--title":
        entry = queue.enqueue_custom(
            str(title),
            description,
            workflow_ref=workflow_ref,
            priority=priority,
            input=payload,
            vars=variables,
            run_at=run_at,
        )
    else:
        if chosen == "--task-id":
            kind, ident = "task", str(task_id)
        elif chosen == "--requirement-id":
            kind, ident = "requirement", str(requirement_id)
        else:
            kind, ident = parse_subject(str(subject))
        entry = queue.enqueue_subject(
            kind,
            ident,
            workflow_ref=workflow_ref,
            priority=priority,
            input=payload,
            vars=variables,
            run_at=run_at,
        )

    def human(_: Any) -> None:
        say(f"queued {entry.subject_key} as {entry.entry_id} (workflow {entry.workflow_ref})")

    emit(entry, human)


def _targets(func: Any) -> Any:
    func = click.option("--yes", is_flag=True, help="Apply (with --all; drop always needs it).")(
        func
    )
    func = click.option("--all", "all_", is_flag=True, help="Every queued entry.")(func)
    func = click.option("--subject-id", default=None, help="The entries of this subject.")(func)
    return click.argument("entry_ids", nargs=-1)(func)


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _report(result: BulkChange, past: str) -> None:
    def human(_: Any) -> None:
        if result.dry_run:
            dry_run_note(f"would {result.action} {_entries(len(result.changed))}")
        else:
            say(f"{past} {_entries(len(result.changed))}")
        for entry_id in result.changed:
            say(f"  {entry_id}")
        for skipped in result.skipped:
            say(f"skipped {skipped['entry_id']} ({skipped['status']})")

    emit(result, human)


@command.command("hold")
@_targets
@click.option("--reason", default=None, help="Why (shown in queue list --status held).")
def hold(
    entry_ids: tuple[str, ...], subject_id: str | None, all_: bool, yes: bool, reason: str | None
) -> None:
    """Hold pending entries (they stay queued but are never leased)."""
    result = get_context().hub.queue.hold(
        entry_ids, subject_id=subject_id, all=all_, reason=reason, dry_run=all_ and not yes
    )
    _report(result, "held")


@command.command("release")
@_targets
def release(entry_ids: tuple[str, ...], subject_id: str | None, all_: bool, yes: bool) -> None:
    """Release held entries back to pending (they keep their place)."""
    result = get_context().hub.queue.release(
        entry_ids, subject_id=subject_id, all=all_, dry_run=all_ and not yes
    )
    _report(result, "released")


@command.command("drop")
@_targets
def drop(entry_ids: tuple[str, ...], subject_id: str | None, all_: bool, yes: bool) -> None:
    """Drop pending or held entries (dry run unless --yes)."""
    result = get_context().hub.queue.drop(
        entry_ids, subject_id=subject_id, all=all_, dry_run=not yes
    )
    _report(result, "dropped")


@command.command("reorder")
@click.argument("subject_ids", nargs=-1, required=True)
def reorder(subject_ids: tuple[str, ...]) -> None:
    """Move these subjects' pending entries to the front, in the order given."""
    result = get_context().hub.queue.reorder(subject_ids)
    emit(
        {"reordered_count": len(result.changed), "entry_ids": result.changed},
        lambda _: say(f"moved to the front: {', '.join(result.changed)}"),
    )
