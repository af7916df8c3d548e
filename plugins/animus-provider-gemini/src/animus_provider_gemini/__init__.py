"""Animus provider plugin for the Gemini CLI (``animus-provider-gemini``).

Runs ``gemini --output-format stream-json -p <prompt>`` per ``agent/run`` / ``agent/resume``,
streams the CLI's events as ``agent/*`` notifications and answers with an ``AgentRunResponse``
whose ``session_id`` is gemini's own session id (``--resume`` takes it).
"""

from __future__ import annotations

from animus_provider_gemini._launch import (
    APPROVAL_MODES,
    BINARY_VAR,
    KEY_VARS,
    REQUEST_ENV_ALLOWLIST,
    SETTINGS_DIR_VAR,
    GeminiLaunch,
    approval_args,
    build_launch,
    gemini_mcp_servers,
    insecure_ancestor,
    resolve_binary,
)
from animus_provider_gemini._parser import GeminiStreamParser, tokens_from_stats
from animus_provider_gemini._plugin import (
    BACKEND,
    ENV_REQUIRED,
    PLUGIN_NAME,
    VERSION,
    GeminiProvider,
    main,
)

__version__ = VERSION

__all__ = [
    "APPROVAL_MODES",
    "BACKEND",
    "BINARY_VAR",
    "ENV_REQUIRED",
    "KEY_VARS",
    "PLUGIN_NAME",
    "REQUEST_ENV_ALLOWLIST",
    "SETTINGS_DIR_VAR",
    "VERSION",
    "GeminiLaunch",
    "GeminiProvider",
    "GeminiStreamParser",
    "__version__",
    "approval_args",
    "build_launch",
    "gemini_mcp_servers",
    "insecure_ancestor",
    "main",
    "resolve_binary",
    "tokens_from_stats",
]
