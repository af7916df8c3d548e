"""The ``animus-provider-opencode`` plugin: ``agent/run``, ``agent/resume``, ``agent/cancel``."""

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

from ._launch import BINARY_VAR, CONFIG_CONTENT_VAR, PROVIDER_KEY_VARS, build_launch
from ._parser import OpencodeStreamParser

__all__ = ["BACKEND", "ENV_REQUIRED", "PLUGIN_NAME", "VERSION", "OpencodeProvider", "main"]

PLUGIN_NAME = "animus-provider-opencode"
VERSION = "0.1.0"
BACKEND = "opencode:opencode-cli"

ENV_REQUIRED: list[dict[str, Any]] = [
    *(
        {
            "name": name,
            "description": f"API key of opencode's {provider} provider",
            "sensitive": True,
        }
        for provider, names in PROVIDER_KEY_VARS.items()
        for name in names
    ),
    {
        "name": "OPENCODE_AUTH_CONTENT",
        "description": "opencode auth.json content",
        "sensitive": True,
    },
    {"name": CONFIG_CONTENT_VAR, "description": "opencode config (JSON) merged under requests'"},
    {"name": "OPENCODE_CONFIG", "description": "path of an opencode config file"},
    {"name": "OPENCODE_CONFIG_DIR", "description": "opencode config directory"},
    {"name": "XDG_CONFIG_HOME", "description": "where opencode reads its global config"},
    {"name": "XDG_DATA_HOME", "description": "where opencode keeps sessions and auth.json"},
    {"name": "XDG_CACHE_HOME", "description": "opencode's cache (provider packages)"},
    {"name": "OPENCODE_DISABLE_MODELS_FETCH", "description": "1: no models.dev fetch"},
    {"name": BINARY_VAR, "description": "path of the opencode executable"},
    {"name": "HTTPS_PROXY", "description": "proxy for the API"},
    {"name": "NODE_EXTRA_CA_CERTS", "description": "extra CA certificates"},
]


class OpencodeProvider(ProviderPlugin):
    """Drives ``opencode run --format json`` per request."""

    def __init__(self) -> None:
        super().__init__(
            PLUGIN_NAME,
            VERSION,
            "OpenCode (opencode run --format json)",
            backend=BACKEND,
            env_required=ENV_REQUIRED,
        )

    async def run_request(
        self, request: AgentRunRequest, ctx: RequestContext, *, resume: bool
    ) -> AgentRunResponse:
        launch = build_launch(
            request, resume=resume, environ=os.environ, declared_env=self.declared_env
        )
        parser = OpencodeStreamParser(launch.mcp_servers)
        sid = launch.session_id
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
                exc, cli="opencode", cli_session_id=parser.session_id
            ) from None
        raise_if_cli_failed(
            ctx.notify,
            cli="opencode",
            response=response,
            run_session_id=sid,
            cli_session_id=parser.session_id,
        )
        metadata = list(response.metadata)
        metadata.append(
            {
                "type": "opencode_usage",
                "session_id": parser.session_id,
                "cost_usd": parser.cost_usd,
                "tokens_used": parser.tokens.to_wire() if parser.tokens else None,
            }
        )
        return response.model_copy(
            update={
                "session_id": parser.session_id or sid,
                "output": parser.answer if parser.answer is not None else response.output,
                "tokens_used": parser.tokens or response.tokens_used,
                "metadata": metadata,
            }
        )


def main() -> None:
    OpencodeProvider().main()
