"""The daemon's own event stream: ``logs/events.jsonl`` (redacted, rotated) plus live fan-out.

Every record is an ``animus.daemon-event.v1`` line; subscribers of ``daemon/events`` get the
same event as a ``DaemonRunEvent {id, occurred_at, kind, payload}``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from animus_daemon_runtime.bus import EventBus
from animus_protocol.events import DAEMON_EVENT_SCHEMA
from animus_protocol.timeutil import utc_now_str
from animus_store import EventLog

__all__ = ["DaemonEvents", "run_event_from_record"]

_log = logging.getLogger("animus.daemon")


def run_event_from_record(record: dict[str, Any]) -> dict[str, Any]:
    """The ``daemon/event`` stream item for one log record."""
    return {
        "id": str(record.get("id", "")),
        "occurred_at": record.get("timestamp") or record.get("ts"),
        "kind": record.get("event_type", ""),
        "payload": record.get("data", {}),
    }


class DaemonEvents:
    def __init__(self, path: Path, bus: EventBus, project_root: Path) -> None:
        self.log = EventLog(path)
        self.bus = bus
        self.project_root = str(project_root)
        self._seq = itertools.count(1)
        self._prefix = f"{os.getpid():x}-{uuid.uuid4().hex[:6]}"
        # Called with each written record (the notification dispatcher hooks in here).
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    def emit(self, event_type: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        seq = next(self._seq)
        record = {
            "schema": DAEMON_EVENT_SCHEMA,
            "id": f"ev-{self._prefix}-{seq:06d}",
            "seq": seq,
            "timestamp": utc_now_str(),
            "event_type": event_type,
            "project_root": self.project_root,
            "data": data or {},
        }
        try:
            written = self.log.append(record)
        except Exception:
            written = record  # live stream still carries the event
        _log.info("%s %s", event_type, json.dumps(written.get("data", {}), default=str)[:2000])
        self.bus.publish("daemon/event", run_event_from_record(written))
        for listener in self.listeners:
            listener(written)
        return written

    def since(self, since: str | None) -> Iterator[dict[str, Any]]:
        """Logged records after ``since`` (an event id or an RFC 3339 time)."""
        if since is None:
            return iter(())
        if since.startswith("ev-"):
            return self._after_id(since)
        return self.log.iter_since(since)

    def _after_id(self, event_id: str) -> Iterator[dict[str, Any]]:
        seen = False
        for record in self.log:
            if seen:
                yield record
            elif record.get("id") == event_id:
                seen = True
