"""`ProviderPlugin`: a provider plugin from two functions, ``build_command`` and ``parse_line``,
or (for a CLI that needs a per-run parser or launch state) a subclass overriding
``run_request`` on top of `ProviderPlugin.run_cli` and `ProviderPlugin.warn`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from animus_plugin_protocol._errors import RpcError
from animus_plugin_protocol._lifecycle import EnvRequirement, PluginKind
from animus_plugin_protocol.kinds.provider import (
    METHOD_CANCEL,
    METHOD_RESUME,
    METHOD_RUN,
    NOTIFY_ERROR,
    AgentCancelParams,
    AgentCancelResult,
    AgentError,
    AgentRunRequest,
    AgentRunResponse,
)
from animus_plugin_protocol.runtime import Plugin, RequestContext

from ._events import CliEvent
from ._session import DEFAULT_MAX_LINE_BYTES, SessionRegistry, run_cli_session

__all__ = ["BuildCommand", "ParseLine", "ProviderPlugin"]

BuildCommand = Callable[
    [AgentRunRequest, bool], tuple[Sequence[str], Mapping[str, str | None] | None]
]
"""``(request, resume) -> (argv, env)``; env entries overlay the plugin's own environment
(``None`` removes a variable)."""

ParseLine = Callable[[str], Iterable[CliEvent]]


class ProviderPlugin(Plugin):
    """A ``provider`` plugin serving ``agent/run``, ``agent/resume`` and ``agent/cancel``."""

    def __init__(
        self,
        name: str,
        version: str,
        description: str,
        *,
        build_command: BuildCommand | None = None,
        parse_line: ParseLine | None = None,
        backend: str | None = None,
        default_timeout_secs: float | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        kill_grace_secs: float = 0.5,
        env_required: Iterable[EnvRequirement | Mapping[str, Any] | str] = (),
        capabilities: Iterable[str] = (),
        notification_buffer_size: int | None = None,
    ) -> None:
        super().__init__(
            name,
            version,
            PluginKind.PROVIDER,
            description,
            env_required=env_required,
            capabilities=capabilities,
            notification_buffer_size=notification_buffer_size,
            streaming=True,
        )
        self.build_command = build_command
        self.parse_line = parse_line
        # The variables the manifest declares (what a launch may pass on to the CLI).
        self.declared_env = frozenset(r.name for r in self.env_required)
        self.backend = backend or f"{name}:cli"
        self.default_timeout_secs = default_timeout_secs
        self.max_line_bytes = max_line_bytes
        self.kill_grace_secs = kill_grace_secs
        self.sessions = SessionRegistry()
        self.method(METHOD_RUN)(self._agent_run)
        self.method(METHOD_RESUME)(self._agent_resume)
        self.method(METHOD_CANCEL)(self._agent_cancel)

    async def _agent_run(self, params: dict[str, Any], ctx: RequestContext) -> AgentRunResponse:
        return await self.run_request(AgentRunRequest.model_validate(params), ctx, resume=False)

    async def _agent_resume(self, params: dict[str, Any], ctx: RequestContext) -> AgentRunResponse:
        request = AgentRunRequest.model_validate(params)
        if not request.session_id:
            raise RpcError.invalid_params("agent/resume needs the 'session_id' to resume")
        return await self.run_request(request, ctx, resume=True)

    async def _agent_cancel(self, params: dict[str, Any], ctx: RequestContext) -> AgentCancelResult:
        request = AgentCancelParams.model_validate(params)
        cancelled = await self.sessions.cancel(request.session_id)
        return AgentCancelResult(session_id=request.session_id, cancelled=cancelled)

    async def run_request(
        self, request: AgentRunRequest, ctx: RequestContext, *, resume: bool
    ) -> AgentRunResponse:
        """Build the command, run it as a session, and return the aggregated response."""
        if self.build_command is None or self.parse_line is None:
            raise RpcError.internal(
                f"provider {self.name} has no build_command/parse_line and does not override "
                "run_request",
                category="session_start_failed",
            )
        try:
            argv, overlay = self.build_command(request, resume)
        except RpcError:
            raise
        except Exception as exc:
            raise RpcError.internal(
                f"cannot build the CLI command: {exc}", category="session_start_failed"
            ) from exc
        env = dict(os.environ)
        for key, value in (overlay or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return await self.run_cli(
            request,
            ctx,
            argv,
            env=env,
            session_id=request.session_id or str(uuid.uuid4()),
            parse_line=self.parse_line,
        )

    async def run_cli(
        self,
        request: AgentRunRequest,
        ctx: RequestContext,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        session_id: str,
        parse_line: ParseLine,
    ) -> AgentRunResponse:
        """Run ``argv`` as this plugin's CLI session for ``request``: its cwd and timeout
        (else the plugin's default), cancellable through ``agent/cancel``, events streamed
        to the host through ``ctx``."""
        return await run_cli_session(
            argv,
            cwd=request.cwd,
            env=dict(env),
            session_id=session_id,
            parse_line=parse_line,
            notify=ctx.notify,
            backend=self.backend,
            timeout_secs=request.timeout_secs or self.default_timeout_secs,
            registry=self.sessions,
            max_line_bytes=self.max_line_bytes,
            kill_grace_secs=self.kill_grace_secs,
        )

    @staticmethod
    def warn(ctx: RequestContext, session_id: str, message: str) -> None:
        """A recoverable ``agent/error`` for the run: something the operator should know
        that does not stop it (an ignored setting, a non-fatal CLI complaint)."""
        ctx.notify(
            NOTIFY_ERROR, AgentError(session_id=session_id, message=message, recoverable=True)
        )
