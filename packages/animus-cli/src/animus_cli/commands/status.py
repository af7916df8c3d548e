"""``animus status``: the project at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from animus_cli.commands._runs_common import say
from animus_cli.context import get_context
from animus_cli.output import emit, print_table

if TYPE_CHECKING:
    from animus_core.status import StatusReport

__all__ = ["command"]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def _human(report: StatusReport) -> None:
    say(f"project   {report.project_root}")
    say(f"tasks     {report.tasks_total} ({_counts(report.tasks)})")
    say(f"reqs      {report.requirements_total} ({_counts(report.requirements)})")
    q = report.queue
    say(
        f"queue     {q.total} queued: {q.pending} pending ({q.deferred} deferred), "
        f"{q.assigned} assigned, {q.held} held"
    )
    say("")
    print_table(
        [r.model_dump() for r in report.active_runs],
        ["id", "status", "task_id", "workflow_ref", "phase_id", "started_at"],
        title="active runs",
        empty="active runs: none",
    )
    print_table(
        [b.model_dump() for b in report.blocked],
        ["id", "status", "title", "reason"],
        title="blocked",
        empty="blocked: none",
    )
    print_table(
        [s.model_dump() for s in report.stale],
        ["id", "title", "updated_at", "hours_since_update"],
        title=f"stale (in progress, no update for {report.stale_threshold_hours:g} h)",
        empty="stale: none",
    )
    print_table(
        [f.model_dump() for f in report.recent_failures],
        ["kind", "id", "at", "task_id", "message"],
        title="recent failures",
        empty="recent failures: none",
    )
    for warning in report.warnings:
        say(f"warning: {warning}")


@click.command("status")
@click.option(
    "--failures",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="How many recent failures to show.",
)
def command(failures: int) -> None:
    """Counts, queue, active and blocked work, stale items, recent failures."""
    report = get_context().hub.status.report(failures=failures)

    def human(_: Any) -> None:
        _human(report)

    emit(report, human)
