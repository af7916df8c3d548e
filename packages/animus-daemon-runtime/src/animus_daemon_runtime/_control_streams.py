"""The four control-socket streams: ``daemon/events``, ``workflow/events``,
``subject/watch`` and ``daemon/logs``.

A stream answers ``{"watching": true}``, replays what the request asks for (events after
``since``, a run's event file, the log), then follows the bus. Items are pushed only while
the connection's outgoing queue has room (some is kept for replies and the closing notice);
meanwhile the subscription buffers, and a subscriber that falls too far behind is closed
with ``buffer_full_lagged``. Workflow events are deduplicated by ``(workflow_id, seq)``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from animus_daemon_runtime.daemon_events import run_event_from_record
from animus_daemon_runtime.runner_process import EVENTS_FILE
from animus_protocol.control import STREAM_NOTIFICATIONS
from animus_protocol.timeutil import utc_now_str

if TYPE_CHECKING:
    from animus_daemon_runtime.control_server import Connection
    from animus_daemon_runtime.daemon import Daemon

__all__ = ["ControlStreams"]

_LOG_LINE = re.compile(r"^(\S+) (TRACE|DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL) (\S+): (.*)$")
_RESERVED_FRAMES = 16
# ``daemon/logs {level}`` is a minimum: ``warn`` also sends errors.
_LEVELS = {"trace": 0, "debug": 0, "info": 1, "warn": 2, "warning": 2, "error": 3}


class ControlStreams:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        # stream id -> where its log backlog ended (where following starts)
        self._log_offsets: dict[Any, int] = {}

    async def open(self, conn: Connection, ident: Any, method: str, params: Any) -> None:
        notification = STREAM_NOTIFICATIONS[method]
        bus = self.daemon.bus
        backlog: list[Any] = []
        follow = True
        if method == "daemon/events":
            sub = bus.subscribe("daemon/event")
            backlog = [run_event_from_record(r) for r in self.daemon.events.since(params.since)]
        elif method == "workflow/events":
            kinds = set(params.kinds or [])
            wanted = params.workflow_id

            def match(item: Any) -> bool:
                return (wanted is None or item["workflow_id"] == wanted) and (
                    not kinds or item["kind"] in kinds
                )

            sub = bus.subscribe("workflow/event", match)
            if wanted:
                backlog = [e for e in self._workflow_file_events(wanted) if match(e)]
        elif method == "subject/watch":
            from animus_protocol.subjects import canonical_subject_kind

            kind = canonical_subject_kind(params.kind) if params.kind else None

            def subject_match(item: Any) -> bool:
                subject = item.get("subject") or {}
                return kind is None or subject.get("kind") in (kind, None)

            sub = bus.subscribe("subject/changed", subject_match)
        else:  # daemon/logs
            sub = bus.subscribe("daemon/log")
            follow = bool(params.follow)
            backlog, end = self._log_backlog(params)
            # Following resumes exactly where the backlog ended: a line written between
            # the two is neither lost nor sent twice.
            self._log_offsets[ident] = end
            sub.close("completed") if not follow else None
        conn.send({"jsonrpc": "2.0", "id": ident, "result": {"watching": True}})
        task = asyncio.create_task(
            self._pump(conn, ident, notification, sub, backlog, method, params)
        )
        conn.streams[ident] = (sub, task)

    async def _pump(  # noqa: PLR0917 - one stream's whole context, passed once
        self,
        conn: Connection,
        ident: Any,
        notification: str,
        sub: Any,
        backlog: list[Any],
        method: str,
        params: Any,
    ) -> None:
        seen: dict[str, int] = {}
        for item in backlog:
            if not await self._send_item(conn, ident, notification, item, seen):
                return
        if method == "daemon/logs" and params.follow:
            await self._follow_logs(conn, ident, notification, params)
            return
        while not conn.closed:
            item = await sub.next()
            if item is None:
                conn.close_stream(ident, sub.closed_reason or "completed")
                return
            if not await self._send_item(conn, ident, notification, item, seen):
                return

    async def _send_item(
        self, conn: Connection, ident: Any, notification: str, item: Any, seen: dict[str, int]
    ) -> bool:
        if isinstance(item, dict) and isinstance(item.get("payload"), dict):
            seq = item["payload"].get("seq")
            wf = item.get("workflow_id")
            if isinstance(seq, int) and isinstance(wf, str):
                if seq <= seen.get(wf, 0):
                    return True
                seen[wf] = seq
        # Leave room for replies and the closing notice; meanwhile the subscription buffers
        # (and is closed as lagged if the client never catches up).
        while conn.outgoing.qsize() >= conn.capacity - _RESERVED_FRAMES and not conn.closed:
            await asyncio.sleep(0.02)
            stream = conn.streams.get(ident)
            if stream is not None and stream[0].closed_reason == "buffer_full_lagged":
                conn.close_stream(ident, "buffer_full_lagged")
                return False
        return conn.notify(notification, {"id": ident, "data": item})

    def _workflow_file_events(self, workflow_id: str) -> Iterator[dict[str, Any]]:
        path = self.daemon.paths.run_dir(workflow_id) / EVENTS_FILE
        try:
            lines = path.read_bytes().splitlines()
        except OSError:
            return
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                payload = dict(event.get("payload") or {})
                if event.get("phase_id"):
                    payload.setdefault("phase_id", event["phase_id"])
                payload.setdefault("seq", event.get("seq"))
                yield {
                    "workflow_id": workflow_id,
                    "kind": str(event.get("kind", "")),
                    "payload": payload,
                    "occurred_at": event.get("ts") or utc_now_str(),
                }

    def _log_path(self, params: Any) -> Path:
        """The daemon's log, or with ``plugin`` that plugin's stderr log."""
        if params.plugin:
            name = Path(str(params.plugin)).name  # a name, never a path
            return self.daemon.paths.logs_dir / "plugins" / f"{name}.log"
        return self.daemon.paths.daemon_log

    def _log_backlog(self, params: Any) -> tuple[list[dict[str, Any]], int]:
        """The entries already in the log and the offset just after the last whole line."""
        try:
            data = self._log_path(params).read_bytes()
        except OSError:
            return [], 0
        end = data.rfind(b"\n") + 1
        return list(self._log_entries(params, data[:end], 0)), end

    def _log_entries(self, params: Any, data: bytes, start: int) -> Iterator[dict[str, Any]]:
        minimum = _LEVELS.get(str(params.level or "debug").lower(), 0)
        offset = start
        for raw in data.splitlines(keepends=True):
            offset += len(raw)
            if not raw.endswith(b"\n"):
                break
            entry = self._log_entry(
                raw.decode("utf-8", errors="replace").rstrip("\n"), offset, params.plugin
            )
            if _LEVELS.get(entry["level"], 1) < minimum:  # ``level`` is a minimum
                continue
            if params.since and entry["ts"] < params.since:
                continue
            yield entry

    @staticmethod
    def _log_entry(line: str, offset: int, plugin: str | None = None) -> dict[str, Any]:
        match = _LOG_LINE.match(line)
        if match:
            ts, level, target, message = match.groups()
            level = {"WARNING": "warn", "CRITICAL": "error"}.get(level, level.lower())
        else:
            ts, level, target, message = utc_now_str(), "info", plugin or "daemon", line
        return {
            "id": f"log-{offset}",
            "ts": ts,
            "level": level,
            "source": "plugin" if plugin else "daemon",
            "target": target,
            "message": message,
        }

    async def _follow_logs(
        self, conn: Connection, ident: Any, notification: str, params: Any
    ) -> None:
        path = self._log_path(params)
        offset = self._log_offsets.pop(ident, 0)
        seen: dict[str, int] = {}
        while not conn.closed and ident in conn.streams:
            await asyncio.sleep(0.2)
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if size < offset:
                offset = 0  # rotated or truncated: start over on the new file
            if size == offset:
                continue
            try:
                data = path.read_bytes()[offset:]
            except OSError:
                continue
            end = data.rfind(b"\n") + 1  # whole lines only; a partial one waits
            entries = list(self._log_entries(params, data[:end], offset))
            offset += end
            for entry in entries:
                if not await self._send_item(conn, ident, notification, entry, seen):
                    return
