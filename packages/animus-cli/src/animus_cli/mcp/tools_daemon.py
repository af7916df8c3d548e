"""``animus.daemon.*``: the project's daemon, through its control socket when it is up.

Status and health answer from the socket when the daemon listens and from its pid file
otherwise (the same data as ``animus daemon status|health``); events and logs read the
files the daemon writes. Start, stop, pause and resume are management tools: an agent's
server (``--agent-id``) withholds them unless started with ``--management``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from animus_cli.commands._daemon_client import call_daemon, connect_daemon
from animus_cli.mcp._models import ToolInput, ToolSpec
from animus_cli.mcp._pagination import PageInput, page_of
from animus_protocol.envelope import UnavailableError

if TYPE_CHECKING:
    from animus_cli.mcp._context import ToolContext

__all__ = ["DAEMON_TOOLS"]


class DaemonInput(ToolInput):
    pass


def daemon_status(ctx: ToolContext, args: DaemonInput) -> dict[str, Any]:
    from animus_daemon_runtime.lifecycle import read_pid_info

    client = connect_daemon(ctx.root(args.project_root))
    if client is not None:
        with client:
            live: dict[str, Any] = client.call("daemon/status")
            return live
    info = read_pid_info(ctx.hub(args.project_root).paths)
    data: dict[str, Any] = {"running": False, "status": "stopped"}
    if info is not None:
        data.update(
            {
                "status": "crashed" if info.stale else "starting",
                "pid": info.pid,
                "stale_pid_file": info.stale,
            }
        )
    return data


def daemon_health(ctx: ToolContext, args: DaemonInput) -> dict[str, Any]:
    client = connect_daemon(ctx.root(args.project_root))
    if client is None:
        return {
            "status": "down",
            "healthy": False,
            "degraded_reasons": ["the daemon is not running"],
            "plugins": [],
        }
    with client:
        data: dict[str, Any] = client.call("daemon/health")
        return data


def daemon_start(ctx: ToolContext, args: DaemonInput) -> dict[str, Any]:
    from animus_daemon_runtime.lifecycle import running_daemon, start_detached

    hub = ctx.hub(args.project_root)
    hub.ensure_ready()
    info = running_daemon(hub.paths)
    if info is not None:
        return {
            "started": False,
            "already_running": True,
            "pid": info.pid,
            "started_at": info.started_at,
        }
    info = start_detached(hub.project_root, hub.paths, [], env=dict(ctx.env))
    return {"started": True, "pid": info.pid, "log_path": str(hub.paths.daemon_log)}


class DaemonStopInput(ToolInput):
    timeout_secs: float = Field(
        60.0, ge=0, le=3600, description="Seconds running phases get to reach a safe point."
    )


def daemon_stop(ctx: ToolContext, args: DaemonStopInput) -> dict[str, Any]:
    from animus_daemon_runtime.lifecycle import running_daemon, signal_daemon, wait_for_exit

    hub = ctx.hub(args.project_root)
    info = running_daemon(hub.paths)
    if info is None:
        return {"stopped": False, "running": False}
    client = connect_daemon(hub.project_root)
    if client is None:
        signal_daemon(info)
    else:
        with client:
            try:
                client.call("daemon/stop", {"timeout_secs": args.timeout_secs})
            except Exception:
                signal_daemon(info)
    if not wait_for_exit(info, args.timeout_secs + 15):
        raise UnavailableError(
            f"the daemon (pid {info.pid}) did not stop within {args.timeout_secs + 15:g} s",
            details={"pid": info.pid},
            hint=f"see {hub.paths.daemon_log}",
        )
    return {"stopped": True, "pid": info.pid}


def daemon_pause(ctx: ToolContext, args: DaemonInput) -> Any:
    return call_daemon(ctx.root(args.project_root), "daemon/pause")


def daemon_resume(ctx: ToolContext, args: DaemonInput) -> Any:
    return call_daemon(ctx.root(args.project_root), "daemon/resume")


class DaemonEventsInput(PageInput):
    since: str | None = Field(None, description="Only after this event id or RFC 3339 time.")


def daemon_events(ctx: ToolContext, args: DaemonEventsInput) -> dict[str, Any]:
    """Newest first by page: offset 0 is the latest ``limit`` events (oldest first within)."""
    from animus_daemon_runtime.daemon_events import run_event_from_record
    from animus_store import EventLog

    log = EventLog(ctx.hub(args.project_root).paths.events_log)
    records = list(log.iter_since(args.since)) if args.since else list(log)
    newest_first = [run_event_from_record(r) for r in reversed(records)]
    page = page_of(newest_first, "events", args)
    page["events"].reverse()
    return page


class DaemonLogsInput(ToolInput):
    tail: int = Field(50, ge=1, le=5000, description="The last N lines.")
    level: str | None = Field(None, description="Only lines of this level (info, warn, error).")


def daemon_logs(ctx: ToolContext, args: DaemonLogsInput) -> dict[str, Any]:
    path = ctx.hub(args.project_root).paths.daemon_log
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        lines = []
    if args.level:
        marker = args.level.upper()
        lines = [line for line in lines if f" {marker}" in line]
    return {"path": str(path), "lines": lines[-args.tail :]}


def _daemon(
    verb: str, description: str, model: type[ToolInput], handler: Any, *, writes: bool = False
) -> ToolSpec:
    return ToolSpec(
        f"animus.daemon.{verb}",
        description,
        model,
        handler,
        read_only=not writes,
        management=writes,
    )


DAEMON_TOOLS = (
    _daemon(
        "status",
        "Is the daemon running: pid, uptime, pool, paused (stopped when it is not up).",
        DaemonInput,
        daemon_status,
    ),
    _daemon(
        "health",
        "Healthy or degraded with reasons, per-plugin rows.",
        DaemonInput,
        daemon_health,
    ),
    _daemon(
        "start", "Start the project's daemon detached.", DaemonInput, daemon_start, writes=True
    ),
    _daemon(
        "stop",
        "Stop dispatching, let running phases checkpoint, exit.",
        DaemonStopInput,
        daemon_stop,
        writes=True,
    ),
    _daemon(
        "pause",
        "Pause dispatching (runs in flight continue); needs the daemon.",
        DaemonInput,
        daemon_pause,
        writes=True,
    ),
    _daemon(
        "resume", "Resume dispatching; needs the daemon.", DaemonInput, daemon_resume, writes=True
    ),
    _daemon(
        "events",
        "Daemon events, newest page first (limit, offset, since); next_offset pages back.",
        DaemonEventsInput,
        daemon_events,
    ),
    _daemon("logs", "The last lines of the daemon log.", DaemonLogsInput, daemon_logs),
)
