"""Animus provider plugin for Claude Code (``animus-provider-claude``).

Runs ``claude --print --verbose --output-format stream-json`` per ``agent/run`` /
``agent/resume``, streams the CLI's events as ``agent/*`` notifications and answers with an
``AgentRunResponse`` whose ``session_id`` is claude's own session id (``--resume`` takes it).
"""

from __future__ import annotations

from animus_provider_claude._launch import (
    BINARY_VAR,
    EFFORT_LEVELS,
    PERMISSION_MODES,
    REMOVED_ENV,
    REQUEST_ENV_ALLOWLIST,
    SANDBOX_OPT_IN_VAR,
    ClaudeLaunch,
    build_launch,
    resolve_binary,
)
from animus_provider_claude._mcp import normalize_mcp_servers, write_mcp_config
from animus_provider_claude._parser import ClaudeStreamParser, mcp_server_of
from animus_provider_claude._plugin import (
    BACKEND,
    ENV_REQUIRED,
    PLUGIN_NAME,
    VERSION,
    ClaudeProvider,
    main,
)

__version__ = VERSION

__all__ = [
    "BACKEND",
    "BINARY_VAR",
    "EFFORT_LEVELS",
    "ENV_REQUIRED",
    "PERMISSION_MODES",
    "PLUGIN_NAME",
    "REMOVED_ENV",
    "REQUEST_ENV_ALLOWLIST",
    "SANDBOX_OPT_IN_VAR",
    "VERSION",
    "ClaudeLaunch",
    "ClaudeProvider",
    "ClaudeStreamParser",
    "__version__",
    "build_launch",
    "main",
    "mcp_server_of",
    "normalize_mcp_servers",
    "resolve_binary",
    "write_mcp_config",
]
