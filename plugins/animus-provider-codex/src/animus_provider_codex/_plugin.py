"""The ``animus-provider-codex`` plugin: ``agent/run``, ``agent/resume``, ``agent/cancel``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from animus_plugin_protocol import AgentRunRequest, AgentRunResponse, ErrorCode, RpcError
from animus_plugin_protocol.kinds.provider import NOTIFY_ERROR, AgentError
from animus_plugin_protocol.provider import CliEvent, ErrorEvent, ProviderPlugin, run_cli_session
from animus_plugin_protocol.runtime import RequestContext

from ._launch import BINARY_VAR, CODEX_HOMES_VAR, build_launch
from ._parser import CodexStreamParser

__all__ = ["BACKEND", "ENV_REQUIRED", "PLUGIN_NAME", "VERSION", "CodexProvider", "main"]

PLUGIN_NAME = "animus-provider-codex"
VERSION = "0.1.0"
BACKEND = "codex:codex-exec"
_STDERR_TAIL = 5

ENV_REQUIRED: list[dict[str, Any]] = [
    {"name": "OPENAI_API_KEY", "description": "API key codex uses", "sensitive": True},
    {"name": "CODEX_API_KEY", "description": "API key for codex exec", "sensitive": True},
    {"name": "OPENAI_BASE_URL", "description": "API endpoint of the default provider"},
    {"name": "CODEX_HOME", "description": "codex config, auth and sessions directory"},
    {"name": BINARY_VAR, "description": "path of the codex executable"},
    {"name": CODEX_HOMES_VAR, "description": "where per-config CODEX_HOMEs are kept"},
    {"name": "HTTPS_PROXY", "description": "proxy for the API"},
    {"name": "SSL_CERT_FILE", "description": "CA bundle"},
]


def _tail(lines: Sequence[str]) -> str:
    picked = [line.strip() for line in lines[-_STDERR_TAIL:] if line.strip()]
    return " | ".join(picked) if picked else "(no error output)"


class CodexProvider(ProviderPlugin):
    """Drives ``codex exec --json`` per request."""

    def __init__(self) -> None:
        super().__init__(
            PLUGIN_NAME,
            VERSION,
            "Codex (codex exec --json)",
            build_command=self._unused_build_command,
            parse_line=self._unused_parse_line,
            backend=BACKEND,
            env_required=ENV_REQUIRED,
        )
        self.declared_env = frozenset(str(item["name"]) for item in ENV_REQUIRED)

    @staticmethod
    def _unused_build_command(request: AgentRunRequest, resume: bool) -> Any:
        raise AssertionError("CodexProvider builds its launch in run_request")

    @staticmethod
    def _unused_parse_line(line: str) -> Any:
        raise AssertionError("CodexProvider parses with a per-run CodexStreamParser")

    async def run_request(
        self, request: AgentRunRequest, ctx: RequestContext, *, resume: bool
    ) -> AgentRunResponse:
        launch = build_launch(
            request, resume=resume, environ=os.environ, declared_env=self.declared_env
        )
        parser = CodexStreamParser()
        deferred = _DeferredFatal(parser)
        sid = launch.session_id
        if launch.ignored_env:
            ctx.notify(
                NOTIFY_ERROR,
                AgentError(
                    session_id=sid,
                    message="request env not forwarded to codex (not allowlisted): "
                    + ", ".join(launch.ignored_env),
                    recoverable=True,
                ),
            )
        response = await run_cli_session(
            launch.argv,
            cwd=request.cwd,
            env=launch.env,
            session_id=sid,
            parse_line=deferred.parse_line,
            notify=ctx.notify,
            backend=self.backend,
            timeout_secs=request.timeout_secs or self.default_timeout_secs,
            registry=self.sessions,
            max_line_bytes=self.max_line_bytes,
            kill_grace_secs=self.kill_grace_secs,
        )
        if deferred.fatal is None and parser.pending_error is not None:
            deferred.fatal = parser.pending_error  # an `error` the CLI ended on
        if deferred.fatal is not None or response.exit_code != 0:
            if deferred.fatal is not None:
                message = f"codex failed (exit code {response.exit_code}): {deferred.fatal}"
            else:
                message = f"codex exited with code {response.exit_code}: {_tail(response.errors)}"
            ctx.notify(NOTIFY_ERROR, AgentError(session_id=sid, message=message, recoverable=False))
            raise RpcError(
                ErrorCode.INTERNAL_ERROR,
                message,
                category="run_failed",
                data={
                    "exit_code": response.exit_code,
                    "output": response.output,
                    "session_id": parser.thread_id or sid,
                },
            )
        return response.model_copy(
            update={
                "session_id": parser.thread_id or sid,
                "tokens_used": parser.tokens or response.tokens_used,
            }
        )


class _DeferredFatal:
    """Holds back the parser's non-recoverable error until the CLI has exited by itself.

    The CLI prints its failure (`result` with `is_error`, `turn.failed`) as its last line and
    then exits, saving its session on the way (so the failed turn can still be resumed).
    Passing the error on at once would make the session kill the group mid-shutdown and
    report a signal instead of the CLI's exit code.
    """

    def __init__(self, parser: CodexStreamParser) -> None:
        self.parser = parser
        self.fatal: str | None = None

    def parse_line(self, line: str) -> list[CliEvent]:
        events = []
        for event in self.parser.parse_line(line):
            if isinstance(event, ErrorEvent) and not event.recoverable:
                if self.fatal is None:
                    self.fatal = event.message
                continue
            events.append(event)
        return events


def main() -> None:
    CodexProvider().main()
