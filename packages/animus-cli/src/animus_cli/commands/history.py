"""``animus history``: what ran, per task, recent, search, cleanup, and recorded errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from animus_cli.commands._runs_common import dry_run_note, positive, say
from animus_cli.context import get_context
from animus_cli.output import emit, print_kv, print_table

if TYPE_CHECKING:
    from animus_core.history import HistoryRecord

__all__ = ["command"]

_COLUMNS = ["id", "ts", "event_type", "task_id", "workflow_id", "status", "message"]


def _table(records: list[HistoryRecord], total: int | None = None) -> None:
    print_table([r.model_dump() for r in records], _COLUMNS, empty="(no history)")
    if total is not None and total > len(records):
        say(f"{len(records)} of {total} shown (use --limit/--offset)")


@click.group("history")
def command() -> None:
    """What ran: per task, recent, search with time ranges, cleanup, recorded errors."""


@command.command("task")
@click.argument("task_id")
@click.option("--limit", type=int, default=50, show_default=True, callback=positive)
def for_task(task_id: str, limit: int) -> None:
    """History of one task, newest first."""
    records = get_context().hub.history.for_task(task_id, limit)
    emit(records, lambda _: _table(records))


@command.command("get")
@click.argument("record_id", type=int)
def get(record_id: int) -> None:
    """One history record."""
    record = get_context().hub.history.get(record_id)
    emit(record, lambda _: print_kv(record.model_dump()))


@command.command("recent")
@click.option("--limit", type=int, default=20, show_default=True, callback=positive)
def recent(limit: int) -> None:
    """The latest records across the project."""
    records = get_context().hub.history.recent(limit)
    emit(records, lambda _: _table(records))


@command.command("search")
@click.option("--task-id", default=None)
@click.option("--workflow-id", default=None)
@click.option("--status", default=None, help="Status recorded with the event.")
@click.option("--event-type", default=None, help="e.g. task.status-changed")
@click.option("--since", "--started-after", "since", default=None, help="7d, 12h or a timestamp.")
@click.option("--until", "--started-before", "until", default=None, help="Duration ago or time.")
@click.option("--limit", type=int, default=50, show_default=True, callback=positive)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
def search(
    *,
    task_id: str | None,
    workflow_id: str | None,
    status: str | None,
    event_type: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    offset: int,
) -> None:
    """Records matching every given filter, newest first."""
    page = get_context().hub.history.search(
        task_id=task_id,
        workflow_id=workflow_id,
        status=status,
        event_type=event_type,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    emit(page, lambda _: _table(page.records, page.total))


@command.command("cleanup")
@click.option("--days", type=click.FloatRange(min=0), default=30, show_default=True)
@click.option("--yes", is_flag=True, help="Delete (otherwise only count).")
def cleanup(days: float, yes: bool) -> None:
    """Delete history older than --days. Dry run unless --yes."""
    report = get_context().hub.history.cleanup(days, dry_run=not yes)

    def human(_: Any) -> None:
        if report.dry_run:
            dry_run_note(f"would delete {report.count} record(s) older than {report.cutoff}")
        else:
            say(f"deleted {report.count} record(s) older than {report.cutoff}")

    emit(report, human)


@command.group("errors")
def errors() -> None:
    """Recorded errors (dispatch, runner, plugin failures)."""


@errors.command("list")
@click.option("--category", default=None)
@click.option("--severity", default=None, help="critical, error, warning or info.")
@click.option("--task-id", default=None)
@click.option("--workflow-id", default=None)
@click.option("--unresolved", is_flag=True, help="Only errors not marked resolved.")
@click.option("--limit", type=int, default=50, show_default=True, callback=positive)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
def errors_list(
    *,
    category: str | None,
    severity: str | None,
    task_id: str | None,
    workflow_id: str | None,
    unresolved: bool,
    limit: int,
    offset: int,
) -> None:
    """Recorded errors, newest first."""
    page = get_context().hub.errors.list(
        category=category,
        severity=severity,
        task_id=task_id,
        workflow_id=workflow_id,
        unresolved_only=unresolved,
        limit=limit,
        offset=offset,
    )
    emit(
        page,
        lambda _: print_table(
            [e.model_dump() for e in page.errors],
            ["id", "ts", "category", "severity", "task_id", "workflow_id", "message"],
            empty="(no recorded errors)",
        ),
    )


@errors.command("get")
@click.argument("error_id", type=int)
def errors_get(error_id: int) -> None:
    """One recorded error with its details."""
    record = get_context().hub.errors.get(error_id)
    emit(record, lambda _: print_kv(record.model_dump()))


@errors.command("stats")
def errors_stats() -> None:
    """Counts by category and severity."""
    stats = get_context().hub.errors.stats()
    emit(stats, lambda _: print_kv(stats.model_dump()))


@errors.command("cleanup")
@click.option("--days", type=click.FloatRange(min=0), default=30, show_default=True)
@click.option("--yes", is_flag=True, help="Delete (otherwise only count).")
def errors_cleanup(days: float, yes: bool) -> None:
    """Delete recorded errors older than --days. Dry run unless --yes."""
    report = get_context().hub.errors.cleanup(days, dry_run=not yes)

    def human(_: Any) -> None:
        if report.dry_run:
            dry_run_note(f"would delete {report.count} error(s) older than {report.cutoff}")
        else:
            say(f"deleted {report.count} error(s) older than {report.cutoff}")

    emit(report, human)
