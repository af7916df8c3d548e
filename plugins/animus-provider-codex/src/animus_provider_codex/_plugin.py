"""The ``animus-provider-codex`` plugin: ``agent/run``, ``agent/resume``, ``agent/cancel``."""

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

from ._launch import BINARY_VAR, CODEX_HOMES_VAR, build_launch
from ._parser import CodexStreamParser

__all__ = ["BACKEND", "ENV_REQUIRED", "PLUGIN_NAME", "VERSION", "CodexProvider", "main"]

PLUGIN_NAME = "animus-provider-codex"
VERSION = "0.1.0"
BACKEND = "codex:codex-exec"

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


class CodexProvider(ProviderPlugin):
    """Drives ``codex exec --json`` per request."""

    def __init__(self) -> None:
        super().__init__(
            PLUGIN_NAME,
            VERSION,
            "Codex (codex exec --json)",
            backend=BACKEND,
            env_required=ENV_REQUIRED,
        )

    async def run_request(
        self, request: AgentRunRequest, ctx: RequestContext, *, resume: bool
    ) -> AgentRunResponse:
        launch = build_launch(
            request, resume=resume, environ=os.environ, declared_env=self.declared_env
        )
        parser = CodexStreamParser()
        deferred = DeferredFatal(parser.parse_line)
        sid = launch.session_id
        if launch.ignored_env:
            self.warn(
                ctx,
                sid,
                "request env not forwarded to codex (not allowlisted): "
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
        if deferred.fatal is None and parser.pending_error is not None:
            deferred.fatal = parser.pending_error  # an `error` the CLI ended on
        raise_if_cli_failed(
            ctx.notify,
            cli="codex",
            response=response,
            run_session_id=sid,
            cli_session_id=parser.thread_id,
            fatal=deferred.fatal,
        )
        return response.model_copy(
            update={
                "session_id": parser.thread_id or sid,
                "tokens_used": parser.tokens or response.tokens_used,
            }
        )


def main() -> None:
    CodexProvider().main()
