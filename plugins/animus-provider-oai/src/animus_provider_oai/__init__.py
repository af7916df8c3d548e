"""Animus provider plugin with an agent loop of its own (``animus-provider-oai``).

Talks to any OpenAI-compatible ``/v1/chat/completions`` endpoint (streamed), offers the model
``read_file``, ``write_file``, ``edit_file``, ``list_files`` and ``shell`` confined to the
session's ``cwd``, and keeps each conversation as JSON so ``agent/resume`` continues it.
"""

from __future__ import annotations

from animus_provider_oai._client import ModelError, ModelTurn, stream_completion
from animus_provider_oai._loop import AgentLoop, LoopSettings
from animus_provider_oai._paths import PathEscape, confined
from animus_provider_oai._plugin import (
    BACKEND,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_ITERATIONS,
    ENV_REQUIRED,
    PLUGIN_NAME,
    VERSION,
    OaiProvider,
    main,
    repair_dangling_tool_calls,
)
from animus_provider_oai._store import (
    STATE_DIR_VAR,
    Conversation,
    ConversationStore,
    state_dir_for,
)
from animus_provider_oai._tools import TOOL_SPECS, ToolBox, ToolOutcome

__version__ = VERSION

__all__ = [
    "BACKEND",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_ITERATIONS",
    "ENV_REQUIRED",
    "PLUGIN_NAME",
    "STATE_DIR_VAR",
    "TOOL_SPECS",
    "VERSION",
    "AgentLoop",
    "Conversation",
    "ConversationStore",
    "LoopSettings",
    "ModelError",
    "ModelTurn",
    "OaiProvider",
    "PathEscape",
    "ToolBox",
    "ToolOutcome",
    "__version__",
    "confined",
    "main",
    "repair_dangling_tool_calls",
    "state_dir_for",
    "stream_completion",
]
