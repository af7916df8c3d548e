"""Trigger plugins (``type: plugin`` triggers) under the plugin host's supervisor.

``config.plugin`` names the plugin (kind ``trigger_backend``); the rest of ``config`` is sent
as ``trigger/watch {config}``. Each ``trigger/event`` notification (flat: ``event_id``,
``subject_id?``, ``subject_kind?``, ``action_hint?``, ``payload``) is routed, then
acknowledged with ``trigger/ack {event_id, status}`` (``queued``, ``skipped``, ``failed``,
``unmatched``, ``shutdown``). Events already seen (by ``event_id``) are acknowledged as
``skipped`` and not routed twice. A plugin that exits is restarted with the supervisor's
backoff and budget; each restart counts in ``plugin_restarts_total{plugin}``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["PluginTriggers"]

# (trigger, event) -> (status, details): the daemon routes one event.
RouteCallback = Callable[[Any, dict[str, Any]], tuple[str, dict[str, Any]]]
_SEEN_MAX = 2000


class PluginTriggers:
    def __init__(
        self,
        project_root: Path,
        env: dict[str, str],
        route: RouteCallback,
        emit: Callable[[str, dict[str, Any]], object],
        count: Callable[..., None],
    ) -> None:
        self.project_root = project_root
        self.env = env
        self.route = route
        self.emit = emit
        self.count = count
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._signature: dict[str, str] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._host: Any = None
        self._supervisors: dict[str, Any] = {}

    def sync(self, triggers: list[Any]) -> None:
        wanted = {t.id: t for t in triggers if t.type == "plugin" and t.enabled}
        for trigger_id in list(self._tasks):
            sig = repr(wanted[trigger_id].config) if trigger_id in wanted else None
            if sig != self._signature.get(trigger_id):
                self._tasks.pop(trigger_id).cancel()
                self._signature.pop(trigger_id, None)
        for trigger_id, trigger in wanted.items():
            if trigger_id not in self._tasks:
                self._signature[trigger_id] = repr(trigger.config)
                self._tasks[trigger_id] = asyncio.create_task(
                    self._run(trigger), name=f"trigger-plugin-{trigger_id}"
                )

    async def _run(self, trigger: Any) -> None:
        config = dict(trigger.config or {})
        name = config.pop("plugin", None)
        if not isinstance(name, str) or not name:
            self.emit("trigger", {"trigger_id": trigger.id, "error": "config.plugin is missing"})
            return
        from animus_plugin_host import PluginHost, RestartBudgetExhaustedError

        if self._host is None:
            self._host = PluginHost(self.project_root, env=self.env)
        try:
            plugin = await asyncio.to_thread(self._host.plugin, name)
        except Exception as exc:
            self.emit("trigger", {"trigger_id": trigger.id, "plugin": name, "error": str(exc)})
            return
        sup = self._supervisors.setdefault(trigger.id, self._host.new_supervisor(plugin))
        restarts_seen = 0
        while True:
            try:
                proc = await sup.process()
            except RestartBudgetExhaustedError as exc:
                self.emit("trigger", {"trigger_id": trigger.id, "plugin": name, "error": str(exc)})
                return
            if sup.restarts > restarts_seen:
                self.count("plugin_restarts_total", sup.restarts - restarts_seen, plugin=name)
                restarts_seen = sup.restarts
            sub = proc.subscribe(methods=["trigger/event"])
            try:
                await proc.call("trigger/watch", {"config": config}, 10.0)
                self.emit("trigger", {"trigger_id": trigger.id, "plugin": name, "watching": True})
                async for note in sub:
                    await self._handle(trigger, proc, name, note.params)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await sup.stop()
                raise
            except Exception as exc:
                self.emit("trigger", {"trigger_id": trigger.id, "plugin": name, "error": str(exc)})
            finally:
                sub.close("watch ended")
            await asyncio.sleep(0.1)  # then the supervisor decides (backoff, budget)

    async def _handle(self, trigger: Any, proc: Any, plugin: str, event: Any) -> None:
        if not isinstance(event, dict):
            return
        if "error" in event:
            self.emit(
                "trigger",
                {"trigger_id": trigger.id, "plugin": plugin, "stream_error": event["error"]},
            )
            return
        event_id = event.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            self.emit(
                "trigger",
                {"trigger_id": trigger.id, "plugin": plugin, "error": "event without event_id"},
            )
            return
        key = f"{trigger.id}/{event_id}"
        if key in self._seen:
            status, details = "skipped", {"reason": "duplicate event_id"}
        else:
            self._seen[key] = None
            if len(self._seen) > _SEEN_MAX:
                self._seen.popitem(last=False)
            try:
                status, details = self.route(trigger, event)
            except Exception as exc:
                status, details = "failed", {"error": str(exc)}
        self.count("trigger_events_total", plugin=plugin, routed=str(status == "queued").lower())
        self.emit(
            "trigger", {"trigger_id": trigger.id, "event_id": event_id, "status": status, **details}
        )
        with contextlib.suppress(Exception):
            await proc.call("trigger/ack", {"event_id": event_id, "status": status}, 5.0)

    def supervisors(self) -> list[Any]:
        return list(self._supervisors.values())

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for sup in self._supervisors.values():
            with contextlib.suppress(Exception):
                await sup.stop()
