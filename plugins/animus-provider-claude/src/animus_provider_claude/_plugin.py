"""The ``animus-provider-claude`` plugin: ``agent/run``, ``agent/resume``, ``agent/cancel``."""

from __future__ import annotations

import os
from typing import Any

from animus_plugin_protocol import AgentRunRequest, AgentRunResponse
from animus_plugin_protocol.provider import (
    DeferredFatal,
    ProviderPlugin,
    raise_if_cli_failed,
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
            backend=BACKEND,
            env_required=ENV_REQUIRED,
        )

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
                self.warn(
                    ctx,
                    sid,
                    "request env not forwarded to claude (not allowlisted): "
                    + ", ".join(launch.ignored_env),
                )
            response = await self.run_cli(
                request,
                ctx,
                launch.argv,
                env=launch.env,
                session_id=sid,
                parse_line=deferred.parse_line,
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
