"""``subject/watch`` for every change, wherever it was made.

Tasks and requirements change through the CLI, MCP, runners and this daemon; each change
appends a ``history`` row in ``workflow.db``. While anyone watches, the daemon follows that
table (by row id, so nothing is missed or repeated) and publishes one ``subject/changed``
item per subject change. A change made over the control socket pokes the follower at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from animus_protocol.envelope import AnimusError

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub
    from animus_daemon_runtime.bus import EventBus

__all__ = ["SubjectWatch"]

TOPIC = "subject/changed"
_KINDS = {
    "created": "created",
    "deleted": "deleted",
    "status-changed": "status-changed",
    "transitioned": "status-changed",
}
_IDLE_POLL = 1.0
_WATCH_POLL = 0.25


class SubjectWatch:
    def __init__(self, hub: ServiceHub, bus: EventBus) -> None:
        self.hub = hub
        self.bus = bus
        self.last_id = 0
        self._poke = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.last_id = self._max_id()
        self._task = asyncio.create_task(self._follow(), name="subject-watch")

    def poke(self) -> None:
        self._poke.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def _max_id(self) -> int:
        with self.hub.db.read() as conn:
            row = conn.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()
        return int(row[0])

    async def _follow(self) -> None:
        while True:
            watching = self.bus.subscriber_count(TOPIC) > 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), _WATCH_POLL if watching else _IDLE_POLL)
            self._poke.clear()
            try:
                if self.bus.subscriber_count(TOPIC) == 0:
                    self.last_id = self._max_id()  # nobody listens: nothing to replay later
                    continue
                self.publish_new()
            except AnimusError:
                continue

    def publish_new(self) -> int:
        with self.hub.db.read() as conn:
            rows = conn.execute(
                "SELECT id, event_type, task_id, subject_key FROM history "
                "WHERE id > ? ORDER BY id LIMIT 500",
                (self.last_id,),
            ).fetchall()
        published = 0
        for row in rows:
            self.last_id = int(row["id"])
            noun, _, verb = str(row["event_type"]).partition(".")
            if noun not in ("task", "requirement"):
                continue
            subject_id = row["task_id"] or row["subject_key"]
            if not subject_id:
                continue
            self.bus.publish(TOPIC, self._item(noun, str(subject_id), _KINDS.get(verb, "updated")))
            published += 1
        return published

    def _item(self, noun: str, subject_id: str, change_kind: str) -> dict[str, Any]:
        subject: Any = None
        if change_kind != "deleted":
            with contextlib.suppress(AnimusError):
                found = self.hub.subjects.backend(noun).get(subject_id)
                to_wire = getattr(found, "to_wire", None)
                subject = to_wire() if to_wire is not None else found
        return {"id": subject_id, "change_kind": change_kind, "subject": subject}
