"""Notifications: daemon events go to notifier plugins that subscribed to their type.

``pm-config.json``::

    "notification_config": {
      "subscriptions": [
        {"plugin": "animus-notifier-slack", "event_types": ["workflow-failed", "task-blocked"]},
        {"plugin": "audit-sink", "event_types": ["*"]}
      ]
    }

Each subscribed plugin runs as one long-lived supervised process (restarted with backoff,
counted in ``plugin_restarts_total{plugin}``) fed from a bounded queue: the event loop only
enqueues, a full queue drops the oldest event and counts it, so a slow or broken notifier
never slows the daemon. ``notifier/notify {event}`` gets the ``animus.daemon-event.v1``
record as logged (redacted).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["NotificationDispatcher", "subscriptions_from_config"]

QUEUE_MAX = 1000
NOTIFY_TIMEOUT = 10.0
# Never notify about notification failures (a broken notifier would feed itself).
_NEVER = frozenset({"notification-runtime-error"})


@dataclass
class Subscription:
    plugin: str
    event_types: frozenset[str]

    def wants(self, event_type: str) -> bool:
        return event_type not in _NEVER and (
            "*" in self.event_types or event_type in self.event_types
        )


def subscriptions_from_config(config: Any) -> list[Subscription]:
    if not isinstance(config, dict):
        return []
    subs = []
    for raw in config.get("subscriptions") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("plugin"), str):
            continue
        types = raw.get("event_types") or ["*"]
        subs.append(Subscription(raw["plugin"], frozenset(str(t) for t in types)))
    return subs


@dataclass
class _Notifier:
    sub: Subscription
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))
    task: asyncio.Task[None] | None = None
    supervisor: Any = None
    delivered: int = 0
    dropped: int = 0
    restarts_seen: int = 0


class NotificationDispatcher:
    def __init__(
        self,
        project_root: Path,
        env: dict[str, str],
        on_error: Callable[[str, str], object],
        count: Callable[..., None],
    ) -> None:
        self.project_root = project_root
        self.env = env
        self.on_error = on_error
        self.count = count
        self._notifiers: dict[str, _Notifier] = {}
        self._signature: str | None = None
        self._host: Any = None

    def configure(self, config: Any) -> None:
        """(Re)build the subscriptions when ``notification_config`` changed."""
        signature = repr(config)
        if signature == self._signature:
            return
        self._signature = signature
        wanted = {s.plugin: s for s in subscriptions_from_config(config)}
        for name in list(self._notifiers):
            if name not in wanted:
                notifier = self._notifiers.pop(name)
                if notifier.task is not None:
                    notifier.task.cancel()
        for name, sub in wanted.items():
            if name in self._notifiers:
                self._notifiers[name].sub = sub
                continue
            notifier = _Notifier(sub)
            notifier.task = asyncio.create_task(self._deliver(notifier), name=f"notifier-{name}")
            self._notifiers[name] = notifier

    def offer(self, record: dict[str, Any]) -> None:
        """Queue ``record`` for every notifier that wants its type (never waits)."""
        event_type = str(record.get("event_type", ""))
        for notifier in self._notifiers.values():
            if not notifier.sub.wants(event_type):
                continue
            if notifier.queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    notifier.queue.get_nowait()
                notifier.dropped += 1
            notifier.queue.put_nowait(record)

    async def _supervisor(self, notifier: _Notifier) -> Any:
        if notifier.supervisor is None:
            from animus_plugin_host import PluginHost

            if self._host is None:
                self._host = PluginHost(self.project_root, env=self.env)
            host = self._host
            plugin = await asyncio.to_thread(host.plugin, notifier.sub.plugin)
            notifier.supervisor = host.new_supervisor(plugin)
        return notifier.supervisor

    async def _deliver(self, notifier: _Notifier) -> None:
        name = notifier.sub.plugin
        while True:
            record = await notifier.queue.get()
            try:
                sup = await self._supervisor(notifier)
                await sup.call("notifier/notify", {"event": record}, NOTIFY_TIMEOUT)
                notifier.delivered += 1
                self.count("notifications_delivered_total", plugin=name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.count("notifications_failed_total", plugin=name)
                self.on_error(name, f"{type(exc).__name__}: {exc}")
            sup = notifier.supervisor
            if sup is not None and sup.restarts > notifier.restarts_seen:
                self.count(
                    "plugin_restarts_total", sup.restarts - notifier.restarts_seen, plugin=name
                )
                notifier.restarts_seen = sup.restarts

    def supervisors(self) -> dict[str, Any]:
        return {n: x.supervisor for n, x in self._notifiers.items() if x.supervisor is not None}

    def stats(self) -> dict[str, Any]:
        return {
            name: {"delivered": n.delivered, "dropped": n.dropped, "queued": n.queue.qsize()}
            for name, n in self._notifiers.items()
        }

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109 - a drain bound
        """Give queued notifications up to ``timeout`` seconds, then stop every notifier."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while any(not n.queue.empty() for n in self._notifiers.values()) and loop.time() < deadline:  # noqa: ASYNC110 - polls several queues against one deadline
            await asyncio.sleep(0.05)
        for notifier in self._notifiers.values():
            if notifier.task is not None:
                notifier.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await notifier.task
            if notifier.supervisor is not None:
                with contextlib.suppress(Exception):
                    await notifier.supervisor.stop()
        self._notifiers.clear()
