"""Bounded notification subscriptions.

The reader task offers each notification to every subscriber without awaiting. A
subscriber whose buffer is full is a slow subscriber: it is closed with a recorded reason
and removed, so it can never block the reader or the other subscribers. Items already
buffered are still delivered before its iteration ends.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["PluginNotification", "Subscription"]


@dataclass(frozen=True, slots=True)
class PluginNotification:
    """One notification frame from a plugin."""

    method: str
    params: Any


class Subscription:
    """An async iterator over a plugin's notifications, with a bounded buffer."""

    def __init__(
        self,
        capacity: int,
        methods: frozenset[str] | None = None,
        on_close: Callable[[Subscription], None] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"subscription capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self.methods = methods
        self._items: deque[PluginNotification] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._on_close = on_close
        self.closed_reason: str | None = None
        self.dropped = False
        self.delivered = 0

    # -- reader side -------------------------------------------------------------------------

    def offer(self, note: PluginNotification) -> bool:
        """Buffer ``note``; return False (and close as dropped) when the buffer is full."""
        if self.closed_reason is not None:
            return False
        if self.methods is not None and note.method not in self.methods:
            return True
        if len(self._items) >= self.capacity:
            self.close(
                f"slow subscriber dropped: its buffer of {self.capacity} notifications was "
                f"full when {note.method!r} arrived",
                dropped=True,
            )
            return False
        self._items.append(note)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    def close(self, reason: str, *, dropped: bool = False) -> None:
        """End the subscription; buffered items are still delivered."""
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        self.dropped = dropped
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self._on_close is not None:
            self._on_close(self)

    # -- consumer side -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.closed_reason is not None

    def pending(self) -> int:
        return len(self._items)

    def drain(self) -> list[PluginNotification]:
        """Everything buffered right now, without waiting."""
        items = list(self._items)
        self._items.clear()
        self.delivered += len(items)
        return items

    async def get(self) -> PluginNotification | None:
        """The next notification, or None once closed and drained."""
        while not self._items:
            if self.closed_reason is not None:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        self.delivered += 1
        return self._items.popleft()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> PluginNotification:
        note = await self.get()
        if note is None:
            raise StopAsyncIteration
        return note

    def unsubscribe(self) -> None:
        self.close("unsubscribed")
