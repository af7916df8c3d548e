"""Triggers: ``file_watcher`` (debounced through watchfiles) and ``webhook`` (fired over the
control socket by ``trigger/fire``). Each accepted event becomes a queue entry whose
``trigger_source`` is ``trigger:<id>``; ``active_hours`` gates them like schedules."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["FileWatchers", "WebhookGate"]

FireCallback = Callable[[str, str, Any], object]


class FileWatchers:
    """One watchfiles task per enabled ``file_watcher`` trigger."""

    def __init__(
        self,
        project_root: Path,
        on_fire: FireCallback,
        on_watching: Callable[[str, list[str]], object] | None = None,
    ) -> None:
        self.project_root = project_root
        self.on_fire = on_fire
        self.on_watching = on_watching
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._signature: dict[str, str] = {}
        self._stop = asyncio.Event()

    def sync(self, triggers: list[Any]) -> None:
        """Start watchers for new or changed triggers, stop the ones that went away."""
        wanted = {t.id: t for t in triggers if t.type == "file_watcher" and t.enabled}
        for trigger_id in list(self._tasks):
            sig = repr(wanted[trigger_id].config) if trigger_id in wanted else None
            if sig != self._signature.get(trigger_id):
                self._tasks.pop(trigger_id).cancel()
                self._signature.pop(trigger_id, None)
        for trigger_id, trigger in wanted.items():
            if trigger_id not in self._tasks:
                self._signature[trigger_id] = repr(trigger.config)
                self._tasks[trigger_id] = asyncio.create_task(
                    self._watch(trigger), name=f"trigger-{trigger_id}"
                )

    async def _watch(self, trigger: Any) -> None:
        from watchfiles import awatch

        config = trigger.config or {}
        paths = [self.project_root / p for p in config.get("paths", [])]
        existing = [str(p) for p in paths if p.exists()]
        if not existing:
            return
        debounce_ms = int(float(config.get("debounce_secs", 5)) * 1000)
        ignore = [str(x) for x in config.get("ignore", [])]
        if self.on_watching is not None:
            self.on_watching(trigger.id, existing)
        async for changes in awatch(
            *existing, debounce=max(debounce_ms, 1), step=50, stop_event=self._stop
        ):
            files = sorted(
                str(Path(p).relative_to(self.project_root))
                if Path(p).is_relative_to(self.project_root)
                else p
                for _, p in changes
            )
            files = [f for f in files if not any(part in f for part in ignore)]
            if files:
                self.on_fire(trigger.id, trigger.workflow_ref, {"changed_files": files})

    async def close(self) -> None:
        self._stop.set()
        for task in self._tasks.values():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()


class WebhookGate:
    """``max_triggers_per_minute`` per webhook trigger (a sliding one-minute window)."""

    def __init__(self) -> None:
        self._fires: dict[str, deque[float]] = {}

    def allow(self, trigger_id: str, per_minute: int) -> bool:
        now = time.monotonic()
        window = self._fires.setdefault(trigger_id, deque())
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= per_minute:
            return False
        window.append(now)
        return True
