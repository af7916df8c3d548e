"""Helpers for provider plugins that drive a coding-agent CLI.

A provider author supplies two functions: ``build_command(request, resume) -> (argv, env)``
and ``parse_line(line) -> [events]``. `ProviderPlugin` wires ``agent/run``, ``agent/resume``
and ``agent/cancel`` around them. A CLI that needs a per-run parser or launch state overrides
``ProviderPlugin.run_request`` and runs its session with ``ProviderPlugin.run_cli``;
`CliSession` / `run_cli_session` are the building blocks underneath.
"""

from __future__ import annotations

from ._binary import resolve_cli_binary
from ._events import (
    CliEvent,
    ErrorEvent,
    FinalText,
    Metadata,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
    tokens_from_metadata,
)
from ._failure import (
    STDERR_TAIL_LINES,
    DeferredFatal,
    annotate_run_failure,
    raise_if_cli_failed,
    stderr_tail,
)
from ._plugin import BuildCommand, ParseLine, ProviderPlugin
from ._session import DEFAULT_MAX_LINE_BYTES, CliSession, SessionRegistry, run_cli_session

__all__ = [
    "DEFAULT_MAX_LINE_BYTES",
    "STDERR_TAIL_LINES",
    "BuildCommand",
    "CliEvent",
    "CliSession",
    "DeferredFatal",
    "ErrorEvent",
    "FinalText",
    "Metadata",
    "ParseLine",
    "ProviderPlugin",
    "SessionRegistry",
    "TextDelta",
    "Thinking",
    "ToolCall",
    "ToolResult",
    "annotate_run_failure",
    "raise_if_cli_failed",
    "resolve_cli_binary",
    "run_cli_session",
    "stderr_tail",
    "tokens_from_metadata",
]
