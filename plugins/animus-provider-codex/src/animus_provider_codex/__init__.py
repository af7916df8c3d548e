"""Animus provider plugin for Codex (``animus-provider-codex``).

Runs ``codex exec [resume <thread_id>] --json`` per ``agent/run`` / ``agent/resume``, streams
the CLI's events as ``agent/*`` notifications and answers with an ``AgentRunResponse`` whose
``session_id`` is codex's thread id (what ``codex exec resume`` takes).
"""

from __future__ import annotations

from animus_provider_codex._launch import (
    APPROVAL_POLICIES,
    BINARY_VAR,
    CODEX_HOMES_VAR,
    EFFORT_LEVELS,
    REQUEST_ENV_ALLOWLIST,
    SANDBOX_MODES,
    CodexLaunch,
    build_launch,
    codex_home_for,
    mcp_overrides,
    permission_options,
    resolve_binary,
)
from animus_provider_codex._parser import CodexStreamParser, error_message_of
from animus_provider_codex._plugin import (
    BACKEND,
    ENV_REQUIRED,
    PLUGIN_NAME,
    VERSION,
    CodexProvider,
    main,
)
from animus_provider_codex._toml import toml_document, toml_key, toml_value

__version__ = VERSION

__all__ = [
    "APPROVAL_POLICIES",
    "BACKEND",
    "BINARY_VAR",
    "CODEX_HOMES_VAR",
    "EFFORT_LEVELS",
    "ENV_REQUIRED",
    "PLUGIN_NAME",
    "REQUEST_ENV_ALLOWLIST",
    "SANDBOX_MODES",
    "VERSION",
    "CodexLaunch",
    "CodexProvider",
    "CodexStreamParser",
    "__version__",
    "build_launch",
    "codex_home_for",
    "error_message_of",
    "main",
    "mcp_overrides",
    "permission_options",
    "resolve_binary",
    "toml_document",
    "toml_key",
    "toml_value",
]
