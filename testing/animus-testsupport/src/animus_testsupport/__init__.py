"""Test support for Animus: a scripted model server and helpers for the real agent CLIs.

Not published; a workspace member used by the test suites of the providers and the
integration tests.
"""

from __future__ import annotations

from animus_testsupport._fixtures import fixture_path
from animus_testsupport._recording import RecordedRequest
from animus_testsupport._script import (
    ErrorReply,
    Match,
    Script,
    ScriptError,
    ToolCall,
    Turn,
    load_script,
)
from animus_testsupport._server import ScriptedModelServer
from animus_testsupport.clis import claude_bin, codex_bin, gemini_bin, opencode_bin, require_cli

__version__ = "0.1.0"

__all__ = [
    "ErrorReply",
    "Match",
    "RecordedRequest",
    "Script",
    "ScriptError",
    "ScriptedModelServer",
    "ToolCall",
    "Turn",
    "claude_bin",
    "codex_bin",
    "fixture_path",
    "gemini_bin",
    "load_script",
    "opencode_bin",
    "require_cli",
]
