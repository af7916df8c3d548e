"""A provider plugin over fake_cli.py, written only against animus-plugin-protocol."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from animus_plugin_protocol import AgentRunRequest
from animus_plugin_protocol.provider import (
    CliEvent,
    ErrorEvent,
    FinalText,
    Metadata,
    ProviderPlugin,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
)

FAKE_CLI = Path(__file__).with_name("fake_cli.py")


def build_command(
    request: AgentRunRequest, resume: bool
) -> tuple[list[str], dict[str, str | None]]:
    argv = [sys.executable, str(FAKE_CLI), "--mode", str(request.extras.get("mode", "stream"))]
    argv += ["--prompt", request.prompt]
    if resume and request.session_id:
        argv += ["--resume", request.session_id]
    env: dict[str, str | None] = {"FAKE_PIDFILE": str(request.extras.get("pidfile", ""))}
    return argv, env


def parse_line(line: str) -> list[CliEvent]:
    try:
        obj = json.loads(line)
    except ValueError:
        return [TextDelta(line)]
    kind = obj.get("type")
    if kind == "delta":
        return [TextDelta(obj["text"])]
    if kind == "final":
        return [FinalText(obj["text"])]
    if kind == "thinking":
        return [Thinking(obj["text"])]
    if kind == "tool_call":
        return [ToolCall(obj["name"], obj.get("arguments"))]
    if kind == "tool_result":
        return [ToolResult(obj["name"], obj.get("output"), bool(obj.get("success")))]
    if kind == "fatal":
        return [ErrorEvent(obj["message"], recoverable=False)]
    return [Metadata(obj)]


plugin = ProviderPlugin(
    "animus-provider-fake",
    "0.1.0",
    "Drives fake_cli.py for the provider-helper tests",
    build_command=build_command,
    parse_line=parse_line,
    backend="fake:cli",
    kill_grace_secs=0.25,
    max_line_bytes=int(os.environ.get("FAKE_MAX_LINE", "65536")),
)

if __name__ == "__main__":
    plugin.main()
