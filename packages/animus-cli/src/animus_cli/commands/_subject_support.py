"""Shared pieces of the ``subject``, ``task`` and ``requirement`` commands.

Only click and the CLI's own helpers are imported at module level; services are reached
through ``get_context().hub`` inside each command, so ``--help`` stays cheap.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import click

from animus_cli.context import get_context
from animus_cli.output import emit, print_kv, print_table

__all__ = [
    "ID_HELP",
    "dry_run_or",
    "emit_page",
    "emit_record",
    "line",
    "note",
    "pagination_options",
    "resolve_id",
    "split_values",
    "unstuck_note",
]

F = TypeVar("F", bound=Callable[..., Any])
ID_HELP = "Id, positional or as --id."


def split_values(values: Iterable[str] | None) -> tuple[str, ...]:
    """Repeated options and comma lists alike: ``--status a,b --status c`` → a, b, c."""
    out: list[str] = []
    for value in values or ():
        out += [part.strip() for part in value.split(",") if part.strip()]
    return tuple(out)


def resolve_id(positional: str | None, option: str | None, *, what: str = "id") -> str:
    """The id given positionally or as ``--id`` (not both, not neither)."""
    from animus_protocol.envelope import InvalidInputError

    if positional and option and positional != option:
        raise InvalidInputError(
            f"two different {what}s given ({positional} and --id {option})",
            hint="give the id once, positionally or with --id",
        )
    chosen = positional or option
    if not chosen:
        raise InvalidInputError(f"missing {what}", hint=f"pass the {what} (or --id <{what}>)")
    return chosen


def pagination_options(default_sort: str | None = "priority") -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        fn = click.option(
            "--offset",
            type=click.IntRange(min=0),
            default=0,
            show_default=True,
            help="Skip this many items.",
        )(fn)
        fn = click.option(
            "--limit",
            type=click.IntRange(min=0, max=10_000),
            default=50,
            show_default=True,
            help="At most this many items.",
        )(fn)
        if default_sort is not None:
            fn = click.option(
                "--sort",
                type=click.Choice(["priority", "created", "updated", "id"], case_sensitive=False),
                default=default_sort,
                show_default=True,
                help="Order: priority (most urgent first), created, updated (newest first), id.",
            )(fn)
        return fn

    return decorate


def line(text: str) -> Callable[[Any], None]:
    """A human renderer that prints one fixed line."""

    def render(_: Any) -> None:
        sys.stdout.write(text + "\n")

    return render


def note(text: str) -> None:
    """A human-mode remark on stderr (never mixed into piped data)."""
    if not get_context().json_output:
        sys.stderr.write(f"note: {text}\n")


def unstuck_note(subject_id: str, before: str, after: str) -> None:
    if before in ("blocked", "on-hold", "needs-rework") and after != before:
        note(f"{subject_id} is unstuck: {before} -> {after}")


def _summary(shown: int, page: Any, noun: str) -> None:
    """``51-100 of 240 tasks (more with --offset 100)`` when the page is not everything."""
    if page.offset == 0 and shown >= page.total:
        return
    end = page.offset + shown
    more = f" (more with --offset {end})" if end < page.total else ""
    first = page.offset + 1 if shown else page.offset
    sys.stdout.write(f"{first}-{end} of {page.total} {noun}{more}\n")


def emit_page(
    page: Any, columns: Sequence[str], row: Callable[[Any], Mapping[str, Any]], noun: str
) -> None:
    """A list result: the page model under --json, else a table and a range line."""

    def human(data: Any) -> None:
        rows = [row(item) for item in data.items]
        print_table(rows, columns, empty=f"(no {noun})")
        _summary(len(rows), data, noun)

    emit(page, human=human)


def emit_record(record: Any, render: Callable[[Any], Mapping[str, Any]]) -> None:
    """One record: its wire form under --json, else ``key  value`` lines."""
    emit(record, human=lambda data: print_kv(render(data)))


def dry_run_or(
    yes: bool,
    *,
    action: str,
    target: Any,
    describe: str,
    run: Callable[[], Any],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Destructive verbs: print what would happen unless ``--yes``; else do it."""
    if not yes:
        data = {"dry_run": True, "action": action, "target": target, **(extra or {})}

        def human(_: Any) -> None:
            sys.stdout.write(f"would {describe}\n")
            for key, value in (extra or {}).items():
                if value:
                    shown = ", ".join(map(str, value)) if isinstance(value, list) else value
                    sys.stdout.write(f"  {key}: {shown}\n")
            sys.stdout.write("dry run: nothing changed; pass --yes to do it\n")

        emit(data, human=human)
        return
    result = run()
    data = {"dry_run": False, "action": action, "deleted": result, **(extra or {})}
    emit(data, human=line(describe.replace("delete", "deleted", 1)))
