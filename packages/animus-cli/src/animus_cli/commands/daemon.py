"""``animus daemon``: run, start, stop, restart, status, health, pause, resume, config,
stream, events, logs, agents, metrics, trigger-fire."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from animus_cli.commands._daemon_client import (
    call_daemon,
    connect_daemon,
    control_socket,
    nudge_daemon,
    require_daemon,
)
from animus_cli.commands._runs_common import say
from animus_cli.context import get_context
from animus_cli.output import emit, emit_json_line, print_kv

__all__ = ["command"]


@click.group("daemon")
def command() -> None:
    """The per-project daemon: dispatches the queue, runs schedules and triggers,
    supervises workflow runners and streams what happens."""


def _tuning_args(pool_size: int | None, interval: float | None, per_tick: int | None) -> list[str]:
    args: list[str] = []
    if pool_size is not None:
        args += ["--pool-size", str(pool_size)]
    if interval is not None:
        args += ["--interval-secs", str(interval)]
    if per_tick is not None:
        args += ["--max-tasks-per-tick", str(per_tick)]
    return args


_pool = click.option("--pool-size", type=click.IntRange(min=1), default=None, help="Runs at once.")
_interval = click.option(
    "--interval-secs", type=click.FloatRange(min=0.05), default=None, help="Fallback heartbeat."
)
_per_tick = click.option(
    "--max-tasks-per-tick", type=click.IntRange(min=1), default=None, help="Starts per wake."
)


@command.command("run")
@click.option(
    "--once", is_flag=True, help="One wake (recovery, one dispatch), then drain and exit."
)
@_pool
@_interval
@_per_tick
def run(
    once: bool, pool_size: int | None, interval_secs: float | None, max_tasks_per_tick: int | None
) -> None:
    """Run the daemon in the foreground until SIGTERM/SIGINT (or one wake with --once)."""
    from animus_daemon_runtime import run_daemon
    from animus_daemon_runtime.logs import setup_logging

    ctx = get_context()
    log = setup_logging(ctx.project_root)
    if not ctx.json_output:
        say(f"animus daemon running for {ctx.project_root} (log {log})")
        sys.stdout.flush()
    run_daemon(
        str(ctx.project_root),
        once=once,
        pool_size=pool_size,
        interval_secs=interval_secs,
        max_tasks_per_tick=max_tasks_per_tick,
    )
    if ctx.json_output:
        emit({"stopped": True})


@command.command("start")
@_pool
@_interval
@_per_tick
def start(
    pool_size: int | None, interval_secs: float | None, max_tasks_per_tick: int | None
) -> None:
    """Start the daemon detached (pid in daemon/daemon.pid, log in daemon/daemon.log)."""
    from animus_daemon_runtime.lifecycle import running_daemon, start_detached

    ctx = get_context()
    paths = ctx.hub.paths
    ctx.hub.ensure_ready()
    info = running_daemon(paths)
    if info is not None:
        emit(
            {
                "started": False,
                "already_running": True,
                "pid": info.pid,
                "started_at": info.started_at,
            },
            lambda d: say(f"the daemon is already running (pid {d['pid']})"),
        )
        return
    info = start_detached(
        ctx.project_root, paths, _tuning_args(pool_size, interval_secs, max_tasks_per_tick)
    )
    emit(
        {"started": True, "pid": info.pid, "log_path": str(paths.daemon_log)},
        lambda d: say(f"daemon started (pid {d['pid']}, log {d['log_path']})"),
    )


def _stop(timeout: float) -> dict[str, Any]:
    from animus_daemon_runtime.lifecycle import running_daemon, signal_daemon, wait_for_exit
    from animus_protocol.envelope import UnavailableError

    ctx = get_context()
    paths = ctx.hub.paths
    info = running_daemon(paths)
    if info is None:
        return {"stopped": False, "running": False}
    client = connect_daemon(ctx.project_root)
    if client is not None:
        with client:
            try:
                client.call("daemon/stop", {"timeout_secs": timeout})
            except Exception:
                signal_daemon(info)
    else:
        signal_daemon(info)
    # The daemon bounds its own drain by the timeout; allow it a little time to exit after.
    if not wait_for_exit(info, timeout + 15):
        raise UnavailableError(
            f"the daemon (pid {info.pid}) did not stop within {timeout + 15:g} s",
            details={"pid": info.pid},
            hint=f"see {paths.daemon_log}; 'kill -9 {info.pid}' as a last resort "
            "(runs are recovered at the next start)",
        )
    return {"stopped": True, "pid": info.pid}


@command.command("stop")
@click.option(
    "--timeout",
    "timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds running phases get to reach a safe point.",
)
def stop(timeout: float) -> None:
    """Stop dispatching, let running phases checkpoint (bounded by --timeout), exit."""
    result = _stop(timeout)
    emit(
        result,
        lambda d: say(
            f"daemon stopped (pid {d['pid']})" if d["stopped"] else "the daemon is not running"
        ),
    )


@command.command("restart")
@click.option("--timeout", type=click.FloatRange(min=0), default=60.0, show_default=True)
@_pool
@_interval
@_per_tick
def restart(
    timeout: float,
    pool_size: int | None,
    interval_secs: float | None,
    max_tasks_per_tick: int | None,
) -> None:
    """Stop the daemon (if running) and start it again, detached."""
    from animus_daemon_runtime.lifecycle import start_detached

    ctx = get_context()
    stopped = _stop(timeout)
    info = start_detached(
        ctx.project_root, ctx.hub.paths, _tuning_args(pool_size, interval_secs, max_tasks_per_tick)
    )
    emit(
        {"restarted": True, "previous_pid": stopped.get("pid"), "pid": info.pid},
        lambda d: say(f"daemon restarted (pid {d['pid']})"),
    )


@command.command("status")
def status() -> None:
    """Is the daemon running; pid, uptime, pool, paused."""
    from animus_daemon_runtime.lifecycle import read_pid_info

    ctx = get_context()
    client = connect_daemon(ctx.project_root)
    if client is not None:
        with client:
            live: dict[str, Any] = client.call("daemon/status")
        if not ctx.json_output:
            live.pop("capabilities", None)
        emit(live)
        return
    info = read_pid_info(ctx.hub.paths)
    data: dict[str, Any] = {"running": False, "status": "stopped"}
    if info is not None:
        data.update(
            {
                "status": "crashed" if info.stale else "starting",
                "pid": info.pid,
                "stale_pid_file": info.stale,
            }
        )
    emit(data)


@command.command("health")
def health() -> None:
    """Healthy or degraded (with reasons), per-plugin rows."""
    ctx = get_context()
    client = connect_daemon(ctx.project_root)
    if client is None:
        data: dict[str, Any] = {
            "status": "down",
            "healthy": False,
            "degraded_reasons": ["the daemon is not running"],
            "plugins": [],
        }
    else:
        with client:
            data = client.call("daemon/health")

    def human(d: dict[str, Any]) -> None:
        say(f"status    {d['status']}")
        for reason in d.get("degraded_reasons") or []:
            say(f"  reason  {reason}")
        for row in d.get("plugins") or []:
            say(f"  plugin  {row['name']:<32} {row['kind']:<18} {row['status']}")

    emit(data, human)


@command.command("pause")
def pause() -> None:
    """Stop dispatching new runs (running work continues)."""
    data = call_daemon(get_context().project_root, "daemon/pause")
    emit(data, lambda d: say(f"dispatch paused at {d.get('paused_at')}"))


@command.command("resume")
def resume() -> None:
    """Dispatch again."""
    data = call_daemon(get_context().project_root, "daemon/resume")
    emit(data, lambda _d: say("dispatch resumed"))


@command.command("config")
@_pool
@click.option("--interval-secs", type=click.FloatRange(min=1), default=None)
@_per_tick
@click.option("--stale-threshold-hours", type=click.FloatRange(min=0, min_open=True), default=None)
@click.option("--phase-timeout-secs", type=click.IntRange(min=1), default=None)
@click.option("--shutdown-timeout-secs", type=click.FloatRange(min=0, min_open=True), default=None)
@click.option("--resume-interrupted/--no-resume-interrupted", default=None)
def config(**changes: Any) -> None:
    """Show or change daemon/pm-config.json (a running daemon picks it up at once)."""
    from animus_config import DaemonConfig, load_daemon_config, save_daemon_config

    ctx = get_context()
    ctx.hub.ensure_ready()
    path = ctx.hub.paths.pm_config
    cfg = load_daemon_config(path)
    updates = {k: v for k, v in changes.items() if v is not None}
    if updates:
        data = cfg.to_json_dict()
        data.update(updates)
        cfg = DaemonConfig.model_validate(data)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_daemon_config(path, cfg)
        nudge_daemon(ctx.project_root, "config")
    emit(
        {"path": str(path), "changed": sorted(updates), "config": cfg.to_json_dict()},
        lambda d: print_kv(d["config"]),
    )


# -- live streams -------------------------------------------------------------------------------


def _stream_items(
    method: str, params: dict[str, Any], max_events: int | None, idle: float | None
) -> Iterator[Any]:
    ctx = get_context()
    client = require_daemon(ctx.project_root)
    count = 0
    with client:
        try:
            for name, data in client.stream(method, params, idle_timeout=idle):
                if name == "subscription/closed":
                    if not ctx.json_output:
                        say(f"(stream closed: {data})")
                    return
                yield data
                count += 1
                if max_events is not None and count >= max_events:
                    return
        except KeyboardInterrupt:
            return


def _print_event(data: Any, fmt: Any) -> None:
    if get_context().json_output:
        emit_json_line(data)
    else:
        say(fmt(data))
        sys.stdout.flush()


def _workflow_line(d: dict[str, Any]) -> str:
    payload = d.get("payload") or {}
    phase = payload.get("phase_id") or ""
    extra = payload.get("status") or payload.get("reason") or ""
    head = f"{d.get('occurred_at')}  {d.get('workflow_id')}  {d.get('kind')}"
    return f"{head}  {phase}  {extra}".rstrip()


_max_events = click.option(
    "--max-events", type=click.IntRange(min=1), default=None, help="Stop after N items."
)
_idle = click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Stop after S seconds without items.",
)


@command.command("stream")
@click.option("--workflow-id", default=None, help="Only this run.")
@click.option("--kind", "kinds", multiple=True, help="Only these event kinds (repeat).")
@_max_events
@_idle
def stream(
    workflow_id: str | None,
    kinds: tuple[str, ...],
    max_events: int | None,
    idle_timeout: float | None,
) -> None:
    """Live workflow events from the runner processes, as they happen."""
    params: dict[str, Any] = {}
    if workflow_id:
        params["workflow_id"] = workflow_id
    if kinds:
        params["kinds"] = list(kinds)
    for data in _stream_items("workflow/events", params, max_events, idle_timeout):
        _print_event(data, _workflow_line)


@command.command("events")
@click.option("--follow", is_flag=True, help="Keep printing new events (needs the daemon).")
@click.option("--since", default=None, help="Replay after this event id or RFC 3339 time.")
@click.option("--tail", "tail_n", type=click.IntRange(min=1), default=50, show_default=True)
@_max_events
@_idle
def events(
    follow: bool, since: str | None, tail_n: int, max_events: int | None, idle_timeout: float | None
) -> None:
    """Daemon events (logs/events.jsonl); --follow streams them live."""

    def line(d: dict[str, Any]) -> str:
        payload = json.dumps(d.get("payload"), default=str)
        return f"{d.get('occurred_at')}  {d.get('kind')}  {payload}"

    if follow:
        for data in _stream_items(
            "daemon/events", {"since": since} if since else {}, max_events, idle_timeout
        ):
            _print_event(data, line)
        return
    from animus_daemon_runtime.daemon_events import run_event_from_record
    from animus_store import EventLog

    log = EventLog(get_context().hub.paths.events_log)
    records = list(log.iter_since(since)) if since else log.tail(tail_n)
    items = [run_event_from_record(r) for r in records]
    if get_context().json_output:
        emit({"events": items})
        return
    for item in items:
        say(line(item))


@command.command("logs")
@click.option("--follow", is_flag=True, help="Keep printing new lines (needs the daemon).")
@click.option("--level", default=None, help="Only this level (debug, info, warn, error).")
@click.option("--tail", "tail_n", type=click.IntRange(min=1), default=50, show_default=True)
@_max_events
@_idle
def logs(
    follow: bool, level: str | None, tail_n: int, max_events: int | None, idle_timeout: float | None
) -> None:
    """The daemon's log (daemon/daemon.log); --follow streams it live."""
    line = lambda d: f"{d['ts']} {d['level'].upper():<5} {d['target']}: {d['message']}"  # noqa: E731
    if follow:
        params: dict[str, Any] = {"follow": True}
        if level:
            params["level"] = level
        for data in _stream_items("daemon/logs", params, max_events, idle_timeout):
            _print_event(data, line)
        return
    path = get_context().hub.paths.daemon_log
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-tail_n:]
    except FileNotFoundError:
        lines = []
    if get_context().json_output:
        emit({"path": str(path), "lines": lines})
        return
    for text in lines:
        say(text)


@command.command("agents")
def agents() -> None:
    """Runner processes the daemon supervises."""
    emit(call_daemon(get_context().project_root, "daemon/agents"))


@command.command("metrics")
def metrics() -> None:
    """Counters and gauges (runs, phases, plugin restarts, active runs, queue depth)."""
    data = call_daemon(get_context().project_root, "daemon/metrics")

    def human(d: dict[str, Any]) -> None:
        for key, value in sorted({**d["counters"], **d["gauges"]}.items()):
            say(f"{key:<48} {value:g}")

    emit(data, human)


@command.command("trigger-fire")
@click.argument("trigger_id")
@click.option("--payload", default="{}", show_default=True, help="JSON payload of the event.")
def trigger_fire(trigger_id: str, payload: str) -> None:
    """Fire a webhook trigger through the running daemon."""
    from animus_protocol.envelope import InvalidInputError

    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise InvalidInputError(
            f"--payload is not JSON: {exc}", hint='e.g. --payload \'{"ref": "main"}\''
        ) from None
    data = call_daemon(
        get_context().project_root, "trigger/fire", {"id": trigger_id, "payload": body}
    )
    emit(data)


_ = control_socket  # re-exported for tests that need the socket path
