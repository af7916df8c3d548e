"""The ``animus-provider-gemini`` plugin: ``agent/run``, ``agent/resume``, ``agent/cancel``."""

from __future__ import annotations

import os
from typing import Any

from animus_plugin_protocol import AgentRunRequest, AgentRunResponse, RpcError
from animus_plugin_protocol.provider import (
    ProviderPlugin,
    annotate_run_failure,
    raise_if_cli_failed,
)
from animus_plugin_protocol.runtime import RequestContext

from ._launch import BINARY_VAR, SETTINGS_DIR_VAR, build_launch
from ._parser import GeminiStreamParser

__all__ = ["BACKEND", "ENV_REQUIRED", "PLUGIN_NAME", "VERSION", "GeminiProvider", "main"]

PLUGIN_NAME = "animus-provider-gemini"
VERSION = "0.1.0"
BACKEND = "gemini:gemini-cli"

ENV_REQUIRED: list[dict[str, Any]] = [
    {"name": "GEMINI_API_KEY", "description": "Gemini API key", "sensitive": True},
    {"name": "GOOGLE_API_KEY", "description": "Google API key (Vertex AI)", "sensitive": True},
    {"name": "GOOGLE_GEMINI_BASE_URL", "description": "API endpoint (gateways, tests)"},
    {"name": "GOOGLE_CLOUD_PROJECT", "description": "Google Cloud project (Vertex AI)"},
    {"name": "GOOGLE_CLOUD_LOCATION", "description": "Google Cloud location (Vertex AI)"},
    {"name": "GOOGLE_GENAI_USE_VERTEXAI", "description": "true: use Vertex AI"},
    {
        "name": "GOOGLE_APPLICATION_CREDENTIALS",
        "description": "service account file (Vertex AI)",
        "sensitive": True,
    },
    {"name": "GEMINI_CLI_SYSTEM_SETTINGS_PATH", "description": "operator system settings"},
    {"name": BINARY_VAR, "description": "path of the gemini executable"},
    {"name": SETTINGS_DIR_VAR, "description": "private directory for per-run settings files"},
    {"name": "HTTPS_PROXY", "description": "proxy for the API"},
    {"name": "NODE_EXTRA_CA_CERTS", "description": "extra CA certificates"},
]


class GeminiProvider(ProviderPlugin):
    """Drives ``gemini --output-format stream-json -p`` per request."""

    def __init__(self) -> None:
        super().__init__(
            PLUGIN_NAME,
            VERSION,
            "Gemini CLI (gemini --output-format stream-json -p)",
            backend=BACKEND,
            env_required=ENV_REQUIRED,
        )

    async def run_request(
        self, request: AgentRunRequest, ctx: RequestContext, *, resume: bool
    ) -> AgentRunResponse:
        launch = build_launch(
            request, resume=resume, environ=os.environ, declared_env=self.declared_env
        )
        parser = GeminiStreamParser()
        sid = launch.session_id
        try:
            for warning in launch.warnings:
                self.warn(ctx, sid, warning)
            try:
                response = await self.run_cli(
                    request,
                    ctx,
                    launch.argv,
                    env=launch.env,
                    session_id=sid,
                    parse_line=parser.parse_line,
                )
            except RpcError as exc:
                raise annotate_run_failure(
                    exc, cli="gemini", cli_session_id=parser.session_id
                ) from None
        finally:
            launch.cleanup()
        for event in parser.finish():
            self.warn(ctx, sid, event.message)
        raise_if_cli_failed(
            ctx.notify,
            cli="gemini",
            response=response,
            run_session_id=sid,
            cli_session_id=parser.session_id,
        )
        return response.model_copy(
            update={
                "session_id": parser.session_id or sid,
                "tokens_used": parser.tokens or response.tokens_used,
            }
        )


def main() -> None:
    GeminiProvider().main()
