"""Keeps one plugin process alive: restart with exponential backoff and a restart budget.

Backoff is 1 s doubling to 60 s; after ``max_attempts`` consecutive failed restarts the
supervisor enters the ``exhausted`` state and says so on every later use instead of
restarting forever. A process that stayed up for ``healthy_window`` seconds resets the
counter. Structured JSON-RPC errors come from a healthy process and never touch the
budget. Clock and sleep are injectable so tests do not wait for real backoff.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from animus_plugin_host._errors import (
    PluginExitedError,
    PluginHostError,
    PluginTimeoutError,
    RestartBudgetExhaustedError,
)
from animus_plugin_host._process import PluginProcess

__all__ = ["RestartPolicy", "Supervisor", "SupervisorState"]

SupervisorState = Literal["idle", "running", "restarting", "exhausted", "stopped"]


@dataclass(frozen=True)
class RestartPolicy:
    """Restart backoff and budget (defaults from the reference host)."""

    initial_backoff: float = 1.0
    max_backoff: float = 60.0
    max_attempts: int = 5
    healthy_window: float = 60.0

    def delay(self, attempt: int) -> float:
        """Backoff before restart number ``attempt`` (1-based)."""
        return float(min(self.initial_backoff * (2 ** max(attempt - 1, 0)), self.max_backoff))


@dataclass
class _Record:
    delays: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Supervisor:
    """Owns at most one live process of a plugin; restarts it on demand."""

    def __init__(
        self,
        name: str,
        spawn: Callable[[], Awaitable[PluginProcess]],
        policy: RestartPolicy | None = None,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.policy = policy or RestartPolicy()
        self._spawn = spawn
        self._sleep = sleep
        self._clock = clock
        self._proc: PluginProcess | None = None
        self._started_at = 0.0
        self._lock = asyncio.Lock()
        self._record = _Record()
        self.state: SupervisorState = "idle"
        self.attempts = 0
        self.restarts = 0
        self.exhausted_reason: str | None = None

    @property
    def backoff_delays(self) -> list[float]:
        """Every backoff slept so far, in order."""
        return list(self._record.delays)

    @property
    def failures(self) -> list[str]:
        return list(self._record.failures)

    @property
    def current(self) -> PluginProcess | None:
        """The live process, if any (never starts one)."""
        proc = self._proc
        return proc if proc is not None and proc.alive else None

    async def process(self) -> PluginProcess:
        """A live process, starting or restarting it (with backoff) when needed."""
        async with self._lock:
            proc = self._proc
            if proc is not None and proc.alive:
                return proc
            if self.state == "stopped":
                raise PluginHostError(f"plugin {self.name}: supervisor was stopped")
            if self.state == "exhausted":
                raise RestartBudgetExhaustedError(
                    self.exhausted_reason or f"plugin {self.name}: restart budget exhausted",
                    details={"plugin": self.name, "attempts": self.attempts},
                )
            restarting = proc is not None or self._record.failures
            if proc is not None:
                self._note_failure(proc.closed_reason or "process exited", proc)
            while True:
                if restarting:
                    if self.attempts >= self.policy.max_attempts:
                        self._exhaust()
                    self.attempts += 1
                    self.state = "restarting"
                    delay = self.policy.delay(self.attempts)
                    self._record.delays.append(delay)
                    await self._sleep(delay)
                try:
                    proc = await self._spawn()
                except PluginHostError as exc:
                    self._record.failures.append(exc.message)
                    self._proc = None
                    restarting = True
                    continue
                if restarting:
                    self.restarts += 1
                self._proc = proc
                self._started_at = self._clock()
                self.state = "running"
                return proc

    def _note_failure(self, reason: str, proc: PluginProcess) -> None:
        detail = reason
        if proc.exit_code is not None:
            detail = f"{reason} (exit code {proc.exit_code})"
        self._record.failures.append(detail)
        if self._clock() - self._started_at >= self.policy.healthy_window:
            self.attempts = 0  # it ran healthily for a while: a fresh budget

    def _exhaust(self) -> None:
        self.state = "exhausted"
        delays = ", ".join(f"{d:g}" for d in self._record.delays) or "none"
        last = self._record.failures[-1] if self._record.failures else "unknown"
        self.exhausted_reason = (
            f"plugin {self.name}: restart budget exhausted after {self.attempts} restart "
            f"attempts (backoff {delays} s); not restarting it again. Last failure: {last}"
        )
        raise RestartBudgetExhaustedError(
            self.exhausted_reason,
            details={"plugin": self.name, "attempts": self.attempts},
            hint=f"inspect the plugin's stderr log, then `animus plugin ping {self.name}`",
        )

    async def call(
        self,
        method: str,
        params: Any = None,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call RPC deadline
        *,
        retry_if_silent: bool = True,
        events_seen: Callable[[], bool] | None = None,
    ) -> Any:
        """Call on the live process; a death-like failure before any event is retried once.

        Death-like: the process exited, or the call timed out (the hung process is killed).
        Structured JSON-RPC errors are raised as they are, without restarting anything.
        """
        proc = await self.process()
        try:
            return await proc.call(method, params, timeout)
        except (PluginExitedError, PluginTimeoutError):
            if proc.alive:
                await proc.kill()  # timed out: a hung process is as good as dead
            if not retry_if_silent or (events_seen is not None and events_seen()):
                raise
        proc = await self.process()
        return await proc.call(method, params, timeout)

    async def stop(self, timeout: float = 2.0) -> None:  # noqa: ASYNC109 - per-call RPC deadline
        """Shut the process down and refuse further starts."""
        async with self._lock:
            self.state = "stopped"
            proc, self._proc = self._proc, None
        if proc is not None:
            await proc.shutdown(timeout=timeout)
