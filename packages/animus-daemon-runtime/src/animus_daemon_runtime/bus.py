"""In-process publish/subscribe with bounded, never-blocking subscribers.

Publishing never waits: each subscriber owns a bounded buffer, and a subscriber whose buffer
is full is closed with reason ``buffer_full_lagged`` instead of slowing the daemon down.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_SUBSCRIBER_CAPACITY", "EventBus", "Subscription"]

DEFAULT_SUBSCRIBER_CAPACITY = 4096
LAGGED = "buffer_full_lagged"


def subscriber_capacity(env: dict[str, str] | None = None) -> int:
    """Items a subscriber may have waiting (``ANIMUS_SUBSCRIBER_BUFFER_ITEMS``)."""
    raw = (env if env is not None else os.environ).get("ANIMUS_SUBSCRIBER_BUFFER_ITEMS", "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else DEFAULT_SUBSCRIBER_CAPACITY


class Subscription:
    """One consumer of one topic; ``next()`` returns ``None`` once closed and drained."""

    def __init__(
        self,
        bus: EventBus,
        topic: str,
        predicate: Callable[[Any], bool] | None,
        capacity: int,
    ) -> None:
        self.bus = bus
        self.topic = topic
        self.predicate = predicate
        self.capacity = capacity
        self.closed_reason: str | None = None
        self._items: deque[Any] = deque()
        self._ready = asyncio.Event()

    def offer(self, item: Any) -> None:
        if self.closed_reason is not None:
            return
        if self.predicate is not None and not self.predicate(item):
            return
        if len(self._items) >= self.capacity:
            self.close(LAGGED)
            return
        self._items.append(item)
        self._ready.set()

    def close(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
            self.bus.unsubscribe(self)
        self._ready.set()

    @property
    def pending(self) -> int:
        return len(self._items)

    async def next(self) -> Any | None:
        while True:
            if self.closed_reason is not None and self.closed_reason == LAGGED:
                return None  # a lagged stream is cut at once: its backlog is stale
            if self._items:
                return self._items.popleft()
            if self.closed_reason is not None:
                return None
            self._ready.clear()
            await self._ready.wait()


class EventBus:
    """Topics (``daemon/event``, ``workflow/event``, ``subject/changed``, ``daemon/log``)."""

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = capacity or subscriber_capacity()
        self._subs: dict[str, list[Subscription]] = {}
        self.published: dict[str, int] = {}

    def subscribe(
        self,
        topic: str,
        predicate: Callable[[Any], bool] | None = None,
        *,
        capacity: int | None = None,
    ) -> Subscription:
        sub = Subscription(self, topic, predicate, capacity or self.capacity)
        self._subs.setdefault(topic, []).append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.topic)
        if subs and sub in subs:
            subs.remove(sub)

    def publish(self, topic: str, item: Any) -> None:
        self.published[topic] = self.published.get(topic, 0) + 1
        for sub in list(self._subs.get(topic, ())):
            sub.offer(item)

    def subscriber_count(self, topic: str | None = None) -> int:
        if topic is not None:
            return len(self._subs.get(topic, ()))
        return sum(len(v) for v in self._subs.values())

    def close_all(self, reason: str) -> None:
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.close(reason)
