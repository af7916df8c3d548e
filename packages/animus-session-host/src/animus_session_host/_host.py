"""`SessionHost`: run, resume and cancel agent sessions through provider plugins.

A turn takes a provider process from the pool, subscribes to its notifications, calls
``agent/run`` (or ``agent/resume``) and forwards every ``agent/*`` notification to the
caller's ``on_event`` in order, all of them before the final response is returned. The
session id is learned from the first notification (or the request, or the response) and
entered in the active-session map, so :meth:`SessionHost.cancel` reaches the process that
owns the session. A death-like failure before any event was forwarded is retried once on a
fresh process; structured errors are raised at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_plugin_host import (
    DiscoveredPlugin,
    PluginHost,
    PluginHostError,
    PluginNotification,
    PluginProcess,
    PluginTimeoutError,
    RestartPolicy,
    Subscription,
    Supervisor,
)
from animus_plugin_protocol.kinds.provider import AgentRunRequest, AgentRunResponse
from animus_session_host._errors import (
    ProviderNotFoundError,
    SessionCancelledError,
    SessionError,
    SessionNotFoundError,
    classify_failure,
)
from animus_session_host._pool import ProviderPool
from animus_session_host._tools import (
    BUILTIN_TOOLS,
    default_model,
    normalize_tool,
    provider_plugin_name,
)

__all__ = ["EventCallback", "SessionEvent", "SessionHost"]

log = logging.getLogger("animus.session_host")

DEFAULT_EVENT_BUFFER = 65_536


@dataclass(frozen=True)
class SessionEvent:
    """One provider notification of a session (``kind``: output, thinking, toolCall, ...)."""

    method: str
    kind: str
    session_id: str | None
    params: dict[str, Any]

    @property
    def text(self) -> str:
        value = self.params.get("text", self.params.get("message", ""))
        return value if isinstance(value, str) else ""


EventCallback = Callable[[SessionEvent], Awaitable[None] | None]


@dataclass
class _Active:
    plugin: str
    process: PluginProcess
    session_id: str | None = None
    events: int = 0
    cancelled: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class SessionHost:
    """Agent sessions over long-lived provider plugin processes."""

    def __init__(
        self,
        plugin_host: PluginHost | None = None,
        *,
        project_root: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        idle_ttl: float = 300.0,
        cancel_grace: float = 1.0,
        event_buffer: int = DEFAULT_EVENT_BUFFER,
        restart_policy: RestartPolicy | None = None,
    ) -> None:
        self.plugin_host = plugin_host or PluginHost(
            project_root, env=env, restart_policy=restart_policy
        )
        self.pool = ProviderPool(self.plugin_host, idle_ttl=idle_ttl)
        self.cancel_grace = cancel_grace
        self.event_buffer = event_buffer
        self._active: dict[str, _Active] = {}

    # -- resolution --------------------------------------------------------------------------

    def resolve(self, tool: str) -> DiscoveredPlugin:
        """The provider plugin for ``tool`` (a built-in tool name or a plugin name)."""
        discovery = self.plugin_host.discovery()
        wanted = provider_plugin_name(tool)
        for name in (tool, wanted):
            plugin = discovery.plugins.get(name)
            if plugin is not None and plugin.serves_kind("provider"):
                return plugin
        providers = sorted(p.name for p in discovery.by_kind("provider")) or ["none"]
        raise ProviderNotFoundError(
            f"no provider plugin for tool {tool!r} (looked for {wanted}; discovered "
            f"providers: {', '.join(providers)})",
            details={"tool": tool, "plugin": wanted},
            hint=f"install it with `animus plugin install {wanted}` (or `uv pip install "
            f"{wanted}`); built-in tool names: {', '.join(BUILTIN_TOOLS)}",
        )

    # -- sessions ----------------------------------------------------------------------------

    def active_sessions(self) -> list[str]:
        return sorted(self._active)

    async def run(
        self,
        tool: str,
        request: AgentRunRequest | Mapping[str, Any],
        on_event: EventCallback | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call RPC deadline
    ) -> AgentRunResponse:
        """One ``agent/run`` turn; events stream to ``on_event`` before this returns."""
        plugin = self.resolve(tool)
        return await self._turn(
            plugin,
            tool=tool,
            method="agent/run",
            request=request,
            on_event=on_event,
            timeout=timeout,
        )

    async def resume(
        self,
        tool: str,
        session_id: str,
        request: AgentRunRequest | Mapping[str, Any],
        on_event: EventCallback | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call RPC deadline
    ) -> AgentRunResponse:
        """An ``agent/resume`` turn of ``session_id``."""
        plugin = self.resolve(tool)
        params = _as_params(request)
        params["session_id"] = session_id
        return await self._turn(
            plugin,
            tool=tool,
            method="agent/resume",
            request=params,
            on_event=on_event,
            timeout=timeout,
        )

    async def cancel(self, session_id: str) -> bool:
        """Cancel a running session: ``agent/cancel``, then kill its process after a grace.

        Returns True once the session's turn has ended. Raises SessionNotFoundError for an
        id that is not running.
        """
        active = self._active.get(session_id)
        if active is None:
            raise SessionNotFoundError(
                f"no running session {session_id!r}",
                details={"session_id": session_id, "running": self.active_sessions()},
            )
        active.cancelled = True
        try:
            async with asyncio.timeout(self.cancel_grace):
                with contextlib.suppress(PluginHostError):
                    await active.process.call("agent/cancel", {"session_id": session_id})
                await active.done.wait()
        except TimeoutError:
            # It did not stop in time: end the provider's process group (SIGTERM first so
            # a provider can still kill the agent CLI it started, then SIGKILL).
            await active.process.terminate(grace=0.5)
            await active.done.wait()
        return True

    async def _turn(
        self,
        plugin: DiscoveredPlugin,
        *,
        tool: str,
        method: str,
        request: AgentRunRequest | Mapping[str, Any],
        on_event: EventCallback | None,
        timeout: float | None,  # noqa: ASYNC109 - per-call RPC deadline
    ) -> AgentRunResponse:
        params = _as_params(request)
        params.setdefault("cwd", str(self.plugin_host.project_root or Path.cwd()))
        model = default_model(tool)
        if model is not None and not params.get("model") and normalize_tool(tool) != "mock":
            params["model"] = model
        if timeout is None and isinstance(params.get("timeout_secs"), int):
            timeout = float(params["timeout_secs"]) + 30.0
        retried = False
        while True:
            supervisor = self.pool.acquire(plugin)
            try:
                process = await supervisor.process()
            except PluginHostError as exc:
                self.pool.discard(supervisor)
                failure = classify_failure(exc)
                raise SessionError(
                    f"provider {plugin.name} could not start: {exc.message}",
                    retryable=failure.retryable,
                    category="session_start_failed",
                ) from exc
            active = _Active(plugin.name, process)
            try:
                return await self._call(
                    process,
                    active,
                    method=method,
                    params=params,
                    on_event=on_event,
                    timeout=timeout,
                )
            except _Retry as retry:
                if retried or active.events:
                    raise retry.error from retry.cause
                retried = True
            finally:
                active.done.set()
                if active.session_id is not None:
                    self._active.pop(active.session_id, None)
                self._finish(plugin.name, supervisor, process)

    def _finish(self, name: str, supervisor: Supervisor, process: PluginProcess) -> None:
        if process.alive:
            self.pool.release(name, supervisor)
        else:
            self.pool.discard(supervisor)

    async def _call(
        self,
        process: PluginProcess,
        active: _Active,
        *,
        method: str,
        params: dict[str, Any],
        on_event: EventCallback | None,
        timeout: float | None,  # noqa: ASYNC109 - per-call RPC deadline
    ) -> AgentRunResponse:
        requested = params.get("session_id")
        if isinstance(requested, str) and requested:
            self._enter(active, requested)
        sub = process.subscribe(capacity=self.event_buffer)
        consumer = asyncio.create_task(self._consume(sub, active, on_event))
        try:
            result = await process.call(method, params, timeout)
        except PluginHostError as exc:
            if isinstance(exc, PluginTimeoutError) and process.alive:
                await process.kill()  # a hung provider is as good as dead
            failure = classify_failure(exc)
            sid = active.session_id
            if active.cancelled or failure.category == "cancelled":
                raise SessionCancelledError(
                    f"session {sid or '(unknown)'} was cancelled",
                    retryable=False,
                    category="cancelled",
                    session_id=sid,
                ) from exc
            error = SessionError(
                f"{process.name}: {method} failed: {failure.reason}",
                retryable=failure.retryable,
                category=failure.category,
                session_id=sid,
            )
            if failure.retryable:
                raise _Retry(error, exc) from exc
            raise error from exc
        finally:
            sub.close("turn finished")
            await consumer
        try:
            response = AgentRunResponse.model_validate(result)
        except ValueError as exc:
            raise SessionError(
                f"{process.name}: {method} returned an invalid AgentRunResponse: {exc}",
                retryable=False,
                category="invalid_response",
            ) from exc
        if active.session_id is None:
            active.session_id = response.session_id
        return response

    def _enter(self, active: _Active, session_id: str) -> None:
        active.session_id = session_id
        self._active[session_id] = active

    async def _consume(
        self, sub: Subscription, active: _Active, on_event: EventCallback | None
    ) -> None:
        async for note in sub:
            event = _event_of(note)
            if event is None:
                continue
            active.events += 1
            if active.session_id is None and event.session_id:
                self._enter(active, event.session_id)
            if on_event is not None:
                try:
                    outcome = on_event(event)
                    if outcome is not None:
                        await outcome
                except Exception:  # a broken callback must not break the session
                    log.exception("session event callback failed")

    async def aclose(self) -> None:
        """Cancel nothing; shut down every pooled provider process."""
        await self.pool.aclose()


class _Retry(Exception):
    def __init__(self, error: SessionError, cause: BaseException) -> None:
        super().__init__(error.message)
        self.error = error
        self.cause = cause


def _as_params(request: AgentRunRequest | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(request, AgentRunRequest):
        return request.to_wire()
    return dict(request)


def _event_of(note: PluginNotification) -> SessionEvent | None:
    if not note.method.startswith("agent/"):
        return None
    params = note.params if isinstance(note.params, dict) else {}
    sid = params.get("session_id")
    kind = params.get("kind")
    if not isinstance(kind, str):
        kind = note.method.split("/", 1)[1]
    return SessionEvent(note.method, kind, sid if isinstance(sid, str) else None, params)
