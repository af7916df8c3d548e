"""Animus provider plugin for OpenCode (``animus-provider-opencode``).

Runs ``opencode run --format json`` per ``agent/run`` / ``agent/resume``, streams the CLI's
events as ``agent/*`` notifications and answers with an ``AgentRunResponse`` whose
``session_id`` is opencode's own ``sessionID`` (``--session`` resumes it).
"""

from __future__ import annotations

from animus_provider_opencode._launch import (
    BINARY_VAR,
    CONFIG_CONTENT_VAR,
    PERMISSION_MODES,
    PROVIDER_KEY_VARS,
    OpencodeLaunch,
    build_launch,
    opencode_mcp,
    permission_options,
    resolve_binary,
)
from animus_provider_opencode._parser import OpencodeStreamParser
from animus_provider_opencode._plugin import (
    BACKEND,
    ENV_REQUIRED,
    PLUGIN_NAME,
    VERSION,
    OpencodeProvider,
    main,
)

__version__ = VERSION

__all__ = [
    "BACKEND",
    "BINARY_VAR",
    "CONFIG_CONTENT_VAR",
    "ENV_REQUIRED",
    "PERMISSION_MODES",
    "PLUGIN_NAME",
    "PROVIDER_KEY_VARS",
    "VERSION",
    "OpencodeLaunch",
    "OpencodeProvider",
    "OpencodeStreamParser",
    "__version__",
    "build_launch",
    "main",
    "opencode_mcp",
    "permission_options",
    "resolve_binary",
]
