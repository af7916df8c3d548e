"""``opencode run --format json`` lines -> normalized provider events.

v1.x lines carry ``type``, ``sessionID`` (the resume id) and a ``part``: ``step_start``,
``text`` (``part.text``, a whole text part), ``reasoning`` (``part.text``), ``tool_use``
(``part.tool``, ``part.state {status, input, output, error, metadata {exit}}``, reported once
the tool finished), ``step_finish`` (``part.reason``, ``part.tokens``, ``part.cost``) and
``error`` (``error {name, data {message, statusCode, responseBody}}``). The older flat forms
(``{type: text, text}``, ``{type: tool_use, name, input}``, ``{type: tool_result, ...}``, a
top-level ``content`` string) are understood too.
"""

from __future__ import annotations

import json
from typing import Any

from animus_plugin_protocol import TokensUsed
from animus_plugin_protocol.provider import (
    CliEvent,
    ErrorEvent,
    FinalText,
    Metadata,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
)

__all__ = ["OpencodeStreamParser"]

_EXCERPT = 200


def _excerpt(line: str) -> str:
    return line if len(line) <= _EXCERPT else f"{line[:_EXCERPT]}... ({len(line)} chars)"


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def mcp_server_of(tool_name: str, servers: frozenset[str]) -> str | None:
    """OpenCode names MCP tools ``<server>_<tool>``; built-in tools have no server."""
    for server in servers:
        if tool_name.startswith(f"{server}_"):
            return server
    return None


class OpencodeStreamParser:
    """Stateful parser for one opencode run; `parse_line` never raises on any input.

    `session_id` is opencode's ``sessionID`` (``--session`` resumes it), `tokens` the usage
    summed over the run's steps, `cost_usd` the summed cost, `answer` the text the model
    wrote after its last tool call.
    """

    def __init__(self, mcp_servers: frozenset[str] = frozenset()) -> None:
        self.session_id: str | None = None
        self.cost_usd: float = 0.0
        self._mcp_servers = mcp_servers
        self._input = self._output = self._cached = self._cache_writes = 0
        self._steps_with_tokens = 0
        self._turn_text: list[str] = []
        self.answer: str | None = None

    @property
    def tokens(self) -> TokensUsed | None:
        if not self._steps_with_tokens:
            return None
        return TokensUsed(
            input=self._input,
            output=self._output,
            cached=self._cached or None,
            cache_writes=self._cache_writes or None,
        )

    def parse_line(self, line: str) -> list[CliEvent]:
        stripped = line.strip()
        if not stripped:
            return []
        if stripped[0] not in "{[":
            return [TextDelta(line)]  # plain text on stdout: keep it
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            return [
                ErrorEvent(
                    f"opencode printed a truncated or malformed JSON line ({exc.msg} at char "
                    f"{exc.pos} of {len(stripped)}): {_excerpt(stripped)}",
                    recoverable=True,
                )
            ]
        if not isinstance(value, dict):
            return [TextDelta(line)]
        return self.parse_event(value)

    def parse_event(self, event: dict[str, Any]) -> list[CliEvent]:
        sid = event.get("sessionID")
        if isinstance(sid, str) and sid and self.session_id is None:
            self.session_id = sid
        kind = event.get("type")
        part = event.get("part")
        if not isinstance(part, dict):
            part = None
        if kind == "text":
            text = part.get("text") if part is not None else event.get("text")
            if isinstance(text, str) and text:
                self._turn_text.append(text)
                return [TextDelta(text)]
            return []
        if kind == "reasoning":
            text = part.get("text") if part is not None else event.get("text")
            return [Thinking(text)] if isinstance(text, str) and text else []
        if kind == "tool_use":
            return self._tool_use(part, event)
        if kind == "tool_result":
            name = event.get("name") or event.get("tool_use_id") or "unknown"
            output = event.get("content", event.get("output"))
            return [ToolResult(str(name), output, not bool(event.get("is_error")))]
        if kind == "step_finish":
            return self._step_finish(part)
        if kind == "step_start":
            return []
        if kind == "error":
            return [ErrorEvent(_error_message(event.get("error")), recoverable=False)]
        if kind is None and isinstance(event.get("content"), str):
            self.answer = event["content"]
            return [FinalText(event["content"])]
        return [Metadata({"type": "opencode_unhandled", "line": event})]

    def _tool_use(self, part: dict[str, Any] | None, event: dict[str, Any]) -> list[CliEvent]:
        self._turn_text.clear()  # the answer is what the model says after its last tool
        if part is None:  # the older flat form: only the call
            name = str(event.get("name") or "unknown")
            return [ToolCall(name, event.get("input"), mcp_server_of(name, self._mcp_servers))]
        state = part.get("state")
        if not isinstance(state, dict):
            return []
        status = state.get("status")
        if status not in ("completed", "error"):
            return []  # pending/running: reported again once it finished
        name = str(part.get("tool") or "unknown")
        server = mcp_server_of(name, self._mcp_servers)
        metadata = state.get("metadata")
        exit_code = metadata.get("exit") if isinstance(metadata, dict) else None
        success = status == "completed" and exit_code in (None, 0)
        if status == "error":
            output: Any = state.get("error")
        elif exit_code is not None:
            output = {"output": state.get("output"), "exit_code": exit_code}
        else:
            output = state.get("output")
        return [ToolCall(name, state.get("input"), server), ToolResult(name, output, success)]

    def _step_finish(self, part: dict[str, Any] | None) -> list[CliEvent]:
        if part is None:
            return []
        events: list[CliEvent] = []
        tokens = part.get("tokens")
        if isinstance(tokens, dict):
            self._steps_with_tokens += 1
            self._input += _count(tokens.get("input"))
            self._output += _count(tokens.get("output")) + _count(tokens.get("reasoning"))
            cache = tokens.get("cache")
            if isinstance(cache, dict):
                self._cached += _count(cache.get("read"))
                self._cache_writes += _count(cache.get("write"))
        cost = part.get("cost")
        if isinstance(cost, int | float) and not isinstance(cost, bool):
            self.cost_usd += float(cost)
        usage = self.tokens
        events.append(
            Metadata(
                {
                    "type": "opencode_step",
                    "session_id": self.session_id,
                    "reason": part.get("reason"),
                    "tokens": tokens,
                    "cost_usd": cost,
                    "tokens_used": usage.to_wire() if usage is not None else None,
                }
            )
        )
        if part.get("reason") == "stop" and self._turn_text:
            self.answer = "".join(self._turn_text)
            events.append(FinalText(self.answer))
        return events


def _error_message(error: Any) -> str:
    if not isinstance(error, dict):
        return f"opencode error: {error}" if error is not None else "opencode reported an error"
    name = error.get("name") or "Error"
    data = error.get("data")
    message = None
    status = None
    if isinstance(data, dict):
        message = data.get("message")
        status = data.get("statusCode")
    if not isinstance(message, str) or not message:
        message = error.get("message") if isinstance(error.get("message"), str) else None
    text = f"{name}: {message}" if message else str(name)
    if isinstance(status, int) and str(status) not in text:
        text = f"{text} (HTTP {status})"
    return text
