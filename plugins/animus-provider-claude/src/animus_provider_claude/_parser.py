"""Claude Code's ``--output-format stream-json`` lines -> normalized provider events.

One `ClaudeStreamParser` per run: it remembers the CLI's own session id (for ``--resume``),
the tool names behind ``tool_use_id``s (so a tool result is named after its call) and the
run's final usage and cost (from the ``result`` line, which is cumulative for the run).
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
    tokens_from_metadata,
)

__all__ = ["ClaudeStreamParser", "mcp_server_of"]

# `system` subtypes that repeat many times per run and carry nothing a caller keeps.
_NOISY_SYSTEM_SUBTYPES = frozenset({"status", "thinking_tokens"})
_EXCERPT = 200


def mcp_server_of(tool_name: str) -> str | None:
    """``mcp__<server>__<tool>`` -> ``<server>``; built-in tools have no server."""
    if tool_name.startswith("mcp__"):
        server, sep, _ = tool_name[len("mcp__") :].partition("__")
        if sep and server:
            return server
    return None


def _excerpt(line: str) -> str:
    return line if len(line) <= _EXCERPT else f"{line[:_EXCERPT]}... ({len(line)} chars)"


def _text_of(content: Any) -> Any:
    """A tool result's content: a string stays; a list of text items becomes their text."""
    if isinstance(content, list):
        texts = [
            item.get("text")
            for item in content
            if isinstance(item, dict) and isinstance(item.get("text"), str)
        ]
        if texts and len(texts) == len(content):
            return "\n".join(t for t in texts if t is not None)
    return content


class ClaudeStreamParser:
    """Stateful parser for one claude run; `parse_line` never raises on any input."""

    def __init__(self) -> None:
        self.session_id: str | None = None
        self.model: str | None = None
        self.tokens: TokensUsed | None = None
        self.cost_usd: float | None = None
        self._tool_names: dict[str, str] = {}

    def parse_line(self, line: str) -> list[CliEvent]:
        stripped = line.strip()
        if not stripped:
            return []
        if stripped[0] not in "{[":
            return [TextDelta(line)]  # plain text (a banner, a warning on stdout): keep it
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            return [
                ErrorEvent(
                    f"claude printed a truncated or malformed JSON line ({exc.msg} at char "
                    f"{exc.pos} of {len(stripped)}): {_excerpt(stripped)}",
                    recoverable=True,
                )
            ]
        if not isinstance(value, dict):
            return [TextDelta(line)]
        return self.parse_event(value)

    def parse_event(self, event: dict[str, Any]) -> list[CliEvent]:
        sid = event.get("session_id")
        if isinstance(sid, str) and sid and self.session_id is None:
            self.session_id = sid
        kind = event.get("type")
        if kind == "system":
            return self._system(event)
        if kind == "assistant":
            return self._assistant(event)
        if kind == "user":
            return self._user(event)
        if kind == "result":
            return self._result(event)
        if kind == "stream_event":
            inner = event.get("event")
            return self._partial(inner, legacy=False) if isinstance(inner, dict) else []
        if kind in ("content_block_start", "content_block_delta"):
            return self._partial(event, legacy=True)
        if kind == "rate_limit_event":
            return [Metadata(event)]
        if kind in ("content_block_stop", "message_start", "message_delta", "message_stop"):
            return []
        # A line type this parser does not know (a newer CLI): keep it, never fail on it.
        return [Metadata({"type": "claude_unhandled", "line": event})]

    # -- line types ---------------------------------------------------------------------

    def _system(self, event: dict[str, Any]) -> list[CliEvent]:
        subtype = event.get("subtype")
        if subtype == "init":
            sid = event.get("session_id")
            if isinstance(sid, str) and sid:
                self.session_id = sid  # init is authoritative for the resume id
            model = event.get("model")
            if isinstance(model, str):
                self.model = model
        if subtype in _NOISY_SYSTEM_SUBTYPES:
            return []
        return [Metadata(event)]

    def _assistant(self, event: dict[str, Any]) -> list[CliEvent]:
        message = event.get("message")
        if not isinstance(message, dict):
            return []
        blocks = message.get("content")
        if not isinstance(blocks, list):
            return []
        # An API failure is echoed as a synthetic assistant message; the `result` line that
        # follows carries the same text as the run's error, so the echo is not the answer.
        api_error = bool(event.get("is_api_error_message") or event.get("error"))
        events: list[CliEvent] = []
        texts: list[str] = []
        for block in blocks:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif btype == "thinking" and block.get("thinking"):
                events.append(Thinking(str(block["thinking"])))
            elif btype == "tool_use":
                name = str(block.get("name") or "unknown")
                tool_id = block.get("id")
                if isinstance(tool_id, str):
                    self._tool_names[tool_id] = name
                events.append(ToolCall(name, block.get("input"), mcp_server_of(name)))
            elif btype == "tool_result":
                events.append(self._tool_result(block, None))
        if texts and not api_error:
            events.append(FinalText("".join(texts)))
        return events

    def _user(self, event: dict[str, Any]) -> list[CliEvent]:
        message = event.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            return []  # a replayed prompt, not a tool result
        top = event.get("tool_use_result")
        return [
            self._tool_result(block, top)
            for block in content
            if isinstance(block, dict) and block.get("type") == "tool_result"
        ]

    def _tool_result(self, block: dict[str, Any], top: Any) -> ToolResult:
        tool_id = block.get("tool_use_id")
        name = block.get("tool_name")
        if not isinstance(name, str):
            name = self._tool_names.get(tool_id) if isinstance(tool_id, str) else None
        if name is None and isinstance(top, dict):
            structured = top.get("structuredContent")
            if isinstance(structured, dict) and isinstance(structured.get("tool"), str):
                name = structured["tool"]
        if name is None:
            name = tool_id if isinstance(tool_id, str) else "unknown"
        return ToolResult(name, _text_of(block.get("content")), not bool(block.get("is_error")))

    def _result(self, event: dict[str, Any]) -> list[CliEvent]:
        events: list[CliEvent] = []
        usage = event.get("usage")
        tokens = tokens_from_metadata({"usage": usage}) if isinstance(usage, dict) else None
        if tokens is not None:
            self.tokens = tokens
        cost = event.get("total_cost_usd")
        if isinstance(cost, int | float) and not isinstance(cost, bool):
            self.cost_usd = float(cost)
        events.append(
            Metadata(
                {
                    "type": "claude_usage",
                    "session_id": self.session_id,
                    "model": self.model,
                    "usage": usage,
                    "tokens_used": tokens.to_wire() if tokens is not None else None,
                    "cost_usd": self.cost_usd,
                    "model_usage": event.get("modelUsage"),
                    "num_turns": event.get("num_turns"),
                    "duration_ms": event.get("duration_ms"),
                    "terminal_reason": event.get("terminal_reason"),
                }
            )
        )
        denials = event.get("permission_denials")
        if isinstance(denials, list) and denials:
            names = sorted(
                {str(d.get("tool_name")) for d in denials if isinstance(d, dict)} or {"?"}
            )
            events.append(
                ErrorEvent(
                    f"claude's permission mode denied {len(denials)} tool call(s): "
                    f"{', '.join(names)}",
                    recoverable=True,
                )
            )
        result = event.get("result")
        if event.get("is_error"):
            if isinstance(result, str) and result.strip():
                message = result
            else:
                message = f"claude run ended with {event.get('subtype') or 'an error'}"
            status = event.get("api_error_status")
            if isinstance(status, int) and str(status) not in message:
                message = f"{message} (API status {status})"
            events.append(ErrorEvent(message, recoverable=False))
        elif isinstance(result, str):
            events.append(FinalText(result))
        return events

    def _partial(self, event: dict[str, Any], *, legacy: bool) -> list[CliEvent]:
        """Raw API stream events (``--include-partial-messages``, or the legacy top-level
        ``content_block_*`` lines).

        In the ``stream_event`` form complete ``assistant`` lines follow with the whole
        blocks, so only text deltas are forwarded (as live ``TextDelta``s) to avoid
        reporting thinking and tool calls twice. The legacy form has no such echo.
        """
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event.get("delta")
            if not isinstance(delta, dict):
                return []
            if delta.get("type") == "text_delta" and isinstance(delta.get("text"), str):
                return [TextDelta(delta["text"])]
            if legacy and delta.get("type") == "thinking_delta" and delta.get("thinking"):
                return [Thinking(str(delta["thinking"]))]
            return []
        if kind == "content_block_start" and legacy:
            block = event.get("content_block")
            if not isinstance(block, dict):
                return []
            btype = block.get("type")
            if btype == "text" and block.get("text"):
                return [TextDelta(str(block["text"]))]
            if btype == "thinking" and block.get("thinking"):
                return [Thinking(str(block["thinking"]))]
            if btype == "tool_use":
                name = str(block.get("name") or "unknown")
                if isinstance(block.get("id"), str):
                    self._tool_names[block["id"]] = name
                return [ToolCall(name, block.get("input"), mcp_server_of(name))]
        return []
