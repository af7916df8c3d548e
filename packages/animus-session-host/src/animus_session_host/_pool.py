"""Long-lived provider processes, reused across sessions.

One provider process serves one session turn at a time (so every notification it sends
belongs to that turn, and cancel can end the process without touching anyone else). After
a turn its supervisor goes back to the idle list of its provider; the next turn for the
same provider reuses it instead of paying for a cold start. Idle processes older than
``idle_ttl`` are shut down; at most ``max_idle`` are kept per provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from animus_plugin_host import DiscoveredPlugin, PluginHost, Supervisor

__all__ = ["PoolStats", "ProviderPool"]


@dataclass
class PoolStats:
    started: int = 0
    reused: int = 0
    evicted: int = 0


@dataclass
class _Idle:
    supervisor: Supervisor
    since: float


@dataclass
class ProviderPool:
    plugin_host: PluginHost
    idle_ttl: float = 300.0
    max_idle: int = 4
    clock: Callable[[], float] = time.monotonic
    stats: PoolStats = field(default_factory=PoolStats)
    _idle: dict[str, list[_Idle]] = field(default_factory=dict)
    _closing: set[asyncio.Task[None]] = field(default_factory=set)

    def acquire(self, plugin: DiscoveredPlugin) -> Supervisor:
        """An idle live supervisor of ``plugin``, else a fresh one (not yet started)."""
        self.evict_expired()
        idle = self._idle.get(plugin.name, [])
        while idle:
            entry = idle.pop()
            if entry.supervisor.current is not None:
                self.stats.reused += 1
                return entry.supervisor
        self.stats.started += 1
        return self.plugin_host.new_supervisor(plugin)

    def release(self, name: str, supervisor: Supervisor) -> None:
        """Return a supervisor after a turn; dead or surplus ones are stopped."""
        if supervisor.current is None:
            self._stop(supervisor)
            return
        idle = self._idle.setdefault(name, [])
        idle.append(_Idle(supervisor, self.clock()))
        while len(idle) > self.max_idle:
            self._stop(idle.pop(0).supervisor)
        self.evict_expired()

    def discard(self, supervisor: Supervisor) -> None:
        self._stop(supervisor)

    def idle_count(self, name: str | None = None) -> int:
        if name is not None:
            return len(self._idle.get(name, []))
        return sum(len(v) for v in self._idle.values())

    def evict_expired(self) -> int:
        """Stop idle processes older than ``idle_ttl``; returns how many."""
        now = self.clock()
        evicted = 0
        for name, idle in list(self._idle.items()):
            keep = [e for e in idle if now - e.since < self.idle_ttl]
            for entry in idle:
                if entry not in keep:
                    self._stop(entry.supervisor)
                    evicted += 1
            self._idle[name] = keep
        self.stats.evicted += evicted
        return evicted

    def _stop(self, supervisor: Supervisor) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(supervisor.stop())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """Stop every idle process and wait for all pending stops."""
        for idle in self._idle.values():
            for entry in idle:
                self._stop(entry.supervisor)
        self._idle.clear()
        while self._closing:
            with contextlib.suppress(Exception):
                await asyncio.gather(*list(self._closing), return_exceptions=True)
