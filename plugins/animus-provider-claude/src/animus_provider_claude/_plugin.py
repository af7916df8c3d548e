"""The ``animus-provider-claude`` plugin: ``agent/run``, ``agent/resume``, ``agent/cancel``."""

from __future__ import annotations

import os
from typing import Any

from animus_plugin_protocol import AgentRunRequest, AgentRunResponse
from animus_plugin_protocol.kinds.provider import NOTIFY_ERROR, AgentError
from animus_plugin_protocol.provider import (
    DeferredFatal,
    ProviderPlugin,
    raise_if_cli_failed,
    run_cli_session,
)
from animus_plugin_protocol.runtime import RequestContext

from ._launch import BINARY_VAR, SANDBOX_OPT_IN_VAR, build_launch
from ._parser import ClaudeStreamParser

__all__ = ["BACKEND", "ENV_REQUIRED", "PLUGIN_NAME", "VERSION", "ClaudeProvider", "main"]

PLUGIN_NAME = "animus-provider-claude"
VERSION = "0.1.0"
BACKEND = "claude:claude-native"

ENV_REQUIRED: list[dict[str, Any]] = [
    {"name": "ANTHROPIC_API_KEY", "description": "API key claude uses", "sensitive": True},
    {"name": "ANTHROPIC_AUTH_TOKEN", "description": "bearer token (gateways)", "sensitive": True},
    {"name": "CLAUDE_CODE_OAUTH_TOKEN", "description": "subscription token", "sensitive": True},
    {"name": "ANTHROPIC_BASE_URL", "description": "API endpoint (gateways, tests)"},
    {"name": "CLAUDE_CONFIG_DIR", "description": "claude's config and session directory"},
    {"name": BINARY_VAR, "description": "path of the claude executable"},
    {"name": SANDBOX_OPT_IN_VAR, "description": "1: running as root in a disposable sandbox"},
    {"name": "IS_SANDBOX", "description": "claude's own sandbox marker (1)"},
    {"name": "ENABLE_TOOL_SEARCH", "description": "claude tool search switch"},
    {"name": "DISABLE_PROMPT_CACHING", "description": "claude prompt caching switch"},
    {"name": "DISABLE_AUTOUPDATER", "description": "1: no update checks"},
    {"name": "DISABLE_TELEMETRY", "description": "1: no telemetry"},
    {"name": "DISABLE_ERROR_REPORTING", "description": "1: no error reports"},
    {"name": "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "description": "1: API traffic only"},
    {"name": "HTTPS_PROXY", "description": "proxy for the API"},
    {"name": "NODE_EXTRA_CA_CERTS", "description": "extra CA certificates"},
]


class ClaudeProvider(ProviderPlugin):
    """Drives ``claude --print --output-format stream-json`` per request."""

    def __init__(self) -> None:
        super().__init__(
            PLUGIN_NAME,
            VERSION,
            "Claude Code (claude --print --output-format stream-json)",
            build_command=self._unused_build_command,
            parse_line=self._unused_parse_line,
            backend=BACKEND,
            env_required=ENV_REQUIRED,
        )
        self.declared_env = frozenset(str(item["name"]) for item in ENV_REQUIRED)

    @staticmethod
    def _unused_build_command(request: AgentRunRequest, resume: bool) -> Any:
        raise AssertionError("ClaudeProvider builds its launch in run_request")

    @staticmethod
    def _unused_parse_line(line: str) -> Any:
        raise AssertionError("ClaudeProvider parses with a per-run ClaudeStreamParser")

    async def run_request(
        self, request: AgentRunRequest, ctx: RequestContext, *, resume: bool
    ) -> AgentRunResponse:
        launch = build_launch(
            request, resume=resume, environ=os.environ, declared_env=self.declared_env
        )
        parser = ClaudeStreamParser()
        deferred = DeferredFatal(parser.parse_line)
        sid = launch.session_id
        try:
            if launch.ignored_env:
                ctx.notify(
                    NOTIFY_ERROR,
                    AgentError(
                        session_id=sid,
                        message="request env not forwarded to claude (not allowlisted): "
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
        finally:
            launch.cleanup()
        raise_if_cli_failed(
            ctx.notify,
            cli="claude",
            response=response,
            run_session_id=sid,
            cli_session_id=parser.session_id,
            fatal=deferred.fatal,
        )
        return response.model_copy(
            update={
                "session_id": parser.session_id or sid,
                "tokens_used": parser.tokens or response.tokens_used,
            }
        )


def main() -> None:
    ClaudeProvider().main()
