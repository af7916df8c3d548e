"""``animus logs tail`` and ``animus events tail``: one time-ordered feed of the daemon's
log, plugin stderr and runner events, with a ``--follow`` that really follows.

Without ``--follow`` the command reads the files and prints the last ``--limit`` entries
(an envelope with ``entries`` under ``--json``). With ``--follow`` it prints that backlog,
then new entries as they happen (NDJSON under ``--json``): from the daemon's
``workflow/events`` and ``daemon/logs`` streams when it is up, and by polling the files every
0.2 s (plugin logs always; run event files always, so a foreground ``animus workflow run``
elsewhere is followed too; the daemon's log when no daemon streams it).
Ctrl-C ends it with exit status 0.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from animus_cli.commands._logs_entries import (
    LogQuery,
    entry_to_workflow_event,
    parse_level,
    parse_since,
)
from animus_cli.context import get_context
from animus_cli.output import emit, emit_json_line

if TYPE_CHECKING:
    from animus_cli.commands._logs_files import Deduper, FileFeed
    from animus_cli.commands._logs_live import DaemonFeed

__all__ = ["command", "events_command"]

POLL_INTERVAL = 0.2
_SOURCES = ("daemon", "plugins", "runs", "all")


@click.group("logs")
def command() -> None:
    """Logs of the daemon, plugins and runs, merged in time order."""


def _follow_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--idle-timeout",
        type=click.FloatRange(min=0.1),
        default=None,
        help="With --follow: stop after S seconds without new entries.",
    )(fn)
    fn = click.option(
        "--max-events",
        type=click.IntRange(min=1),
        default=None,
        help="Stop after printing N entries (backlog included).",
    )(fn)
    fn = click.option(
        "--follow", "-f", is_flag=True, help="Keep printing new entries as they happen."
    )(fn)
    fn = click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=100,
        show_default=True,
        help="How many of the newest entries to print first.",
    )(fn)
    return click.option(
        "--since", default=None, help="Only entries after this: 1h, 30m, 2d or an RFC 3339 time."
    )(fn)


@command.command("tail")
@click.option(
    "--source",
    type=click.Choice(_SOURCES),
    default=None,
    help="Which logs: daemon, plugins, runs or all (default all).",
)
@click.option("--plugin", "plugins", multiple=True, help="Only this plugin's stderr (repeat).")
@click.option("--workflow-id", default=None, help="Only this run's events.")
@click.option("--level", default=None, help="Minimum level: debug, info, warn or error.")
@_follow_options
def tail(
    *,
    source: str | None,
    plugins: tuple[str, ...],
    workflow_id: str | None,
    level: str | None,
    since: str | None,
    limit: int,
    follow: bool,
    max_events: int | None,
    idle_timeout: float | None,
) -> None:
    """The daemon's log, plugin stderr and runner events as one time-ordered feed.

    --plugin and --workflow-id narrow the feed to those plugins and that run (with the
    default --source all); a plugin without a log yet gives a note, not an error, since it
    may simply not have run. Items are LogEntry objects {id, ts, level, source,
    source_name?, target, message, fields?}.
    """
    query = LogQuery(
        sources=_sources(source, plugins, workflow_id),
        plugins=frozenset(plugins),
        workflow_id=workflow_id,
        min_level=parse_level(level),
        since=parse_since(since),
        limit=limit,
    )
    _run(
        query,
        follow=follow,
        max_events=max_events,
        idle_timeout=idle_timeout,
        printer=_print_entry,
        key="entries",
    )


@click.group("events")
def events_command() -> None:
    """Runner (workflow) events from the run event files, live with the daemon up."""


@events_command.command("tail")
@click.option("--workflow-id", default=None, help="Only this run's events.")
@click.option("--level", default=None, help="Minimum level: debug, info, warn or error.")
@_follow_options
def events_tail(
    *,
    workflow_id: str | None,
    level: str | None,
    since: str | None,
    limit: int,
    follow: bool,
    max_events: int | None,
    idle_timeout: float | None,
) -> None:
    """Runner events in time order; --follow keeps printing them as the runs go.

    Items: {workflow_id, kind, phase_id?, seq, level, payload, occurred_at}.
    """
    query = LogQuery(
        sources=frozenset({"runs"}),
        workflow_id=workflow_id,
        min_level=parse_level(level),
        since=parse_since(since),
        limit=limit,
    )
    _run(
        query,
        follow=follow,
        max_events=max_events,
        idle_timeout=idle_timeout,
        printer=_print_event,
        key="events",
    )


def _sources(
    source: str | None, plugins: tuple[str, ...], workflow_id: str | None
) -> frozenset[str]:
    from animus_protocol.envelope import InvalidInputError

    chosen = {"daemon", "plugins", "runs"} if source in (None, "all") else {source}
    if source in (None, "all") and (plugins or workflow_id):
        narrowed = {"plugins"} if plugins else set()
        return frozenset(narrowed | ({"runs"} if workflow_id else set()))
    if plugins and "plugins" not in chosen:
        raise InvalidInputError(
            f"--plugin selects plugin logs, but --source is {source}",
            hint="drop --source or use --source plugins",
        )
    if workflow_id and "runs" not in chosen:
        raise InvalidInputError(
            f"--workflow-id selects runner events, but --source is {source}",
            hint="drop --source or use --source runs",
        )
    return frozenset(chosen)


# -- printing ------------------------------------------------------------------------------------


def _print_entry(entry: dict[str, Any]) -> None:
    if get_context().json_output:
        emit_json_line(entry)
        return
    sys.stdout.write(
        f"{entry['ts']} {entry['level'].upper():<5} {entry['target']}: {entry['message']}\n"
    )
    sys.stdout.flush()


def _print_event(entry: dict[str, Any]) -> None:
    event = entry_to_workflow_event(entry)
    if get_context().json_output:
        emit_json_line(event)
        return
    phase = event.get("phase_id") or ""
    extra = entry["message"].removeprefix(str(event["kind"])).strip().removeprefix(phase).strip()
    line = f"{event['occurred_at']}  {event['workflow_id']}  {event['kind']}  {phase}  {extra}"
    sys.stdout.write(line.rstrip() + "\n")
    sys.stdout.flush()


# -- the engine ----------------------------------------------------------------------------------


def _run(
    query: LogQuery,
    *,
    follow: bool,
    max_events: int | None,
    idle_timeout: float | None,
    printer: Callable[[dict[str, Any]], None],
    key: str,
) -> None:
    from animus_cli.commands._logs_files import Deduper, FileFeed
    from animus_protocol.paths import ScopePaths

    ctx = get_context()
    paths = ScopePaths.for_project(ctx.project_root)
    dedupe = Deduper()
    feed = FileFeed(paths, query, dedupe)
    live: DaemonFeed | None = None
    try:
        if follow:
            live = _connect(query, dedupe)
        if live is not None:
            live.subscribe_runs()
        backlog = feed.backlog()
        notes = _plugin_notes(query, feed.known_plugins())
        for note in notes:
            sys.stderr.write(f"note: {note}\n")
        if not follow:
            backlog = backlog[: max_events or len(backlog)]
            if ctx.json_output:
                shaped = (
                    backlog if key == "entries" else [entry_to_workflow_event(e) for e in backlog]
                )
                data: dict[str, Any] = {key: shaped}
                if notes:
                    data["notes"] = notes
                emit(data)
            else:
                for entry in backlog:
                    printer(entry)
            return
        if live is not None:
            live.subscribe_logs(dedupe.daemon_ts or None)
        _follow(
            feed, live, backlog, printer=printer, max_events=max_events, idle_timeout=idle_timeout
        )
    except KeyboardInterrupt:
        return  # Ctrl-C is how a follow ends: exit 0, no traceback
    finally:
        if live is not None:
            live.close()


def _connect(query: LogQuery, dedupe: Deduper) -> DaemonFeed | None:
    from animus_cli.commands._daemon_client import connect_daemon

    if not query.sources & {"daemon", "runs"}:
        return None
    client = connect_daemon(get_context().project_root, timeout=5.0)
    if client is None:
        return None
    from animus_cli.commands._logs_live import DaemonFeed

    return DaemonFeed(client, query, dedupe)


def _plugin_notes(query: LogQuery, known: list[str]) -> list[str]:
    missing = sorted(query.plugins - set(known))
    if not missing:
        return []
    have = ", ".join(known) or "none yet"
    return [f"no log for plugin {name!r} (plugins with logs: {have})" for name in missing]


def _follow(
    feed: FileFeed,
    live: DaemonFeed | None,
    backlog: list[dict[str, Any]],
    *,
    printer: Callable[[dict[str, Any]], None],
    max_events: int | None,
    idle_timeout: float | None,
) -> None:
    printed = 0
    for entry in backlog:
        if max_events is not None and printed >= max_events:
            return
        printer(entry)
        printed += 1
    last_item = time.monotonic()
    while max_events is None or printed < max_events:
        if live is not None and live.active:
            batch = live.read(POLL_INTERVAL)
            # Run files are polled even then: a foreground run elsewhere never reaches the
            # daemon's stream; the deduper keeps one copy of what both deliver.
            batch += feed.poll(daemon=not live.daemon_live)
        else:
            time.sleep(POLL_INTERVAL)
            batch = feed.poll()
        batch.sort(key=lambda e: e["ts"])
        for entry in batch:
            if max_events is not None and printed >= max_events:
                return
            printer(entry)
            printed += 1
        now = time.monotonic()
        if batch:
            last_item = now
        elif idle_timeout is not None and now - last_item >= idle_timeout:
            return
