"""``codex exec --json`` lines -> normalized provider events.

One `CodexStreamParser` per run: it keeps the thread id (codex's resume id), which items
already announced their tool call (``item.started``), buffered partial function calls, and
the summed token usage of the run's turns.
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

__all__ = ["CodexStreamParser", "error_message_of"]

_EXCERPT = 200


def _excerpt(line: str) -> str:
    return line if len(line) <= _EXCERPT else f"{line[:_EXCERPT]}... ({len(line)} chars)"


def error_message_of(raw: Any) -> str:
    """Codex passes API error bodies through verbatim (JSON in a string); name the message."""
    if isinstance(raw, dict):
        raw = raw.get("message", raw)
    text = raw if isinstance(raw, str) else json.dumps(raw)
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            kind = err.get("type") or err.get("code")
            return f"{err['message']} ({kind})" if isinstance(kind, str) else err["message"]
    return text


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _parse_arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


class CodexStreamParser:
    """Stateful parser for one codex run; `parse_line` never raises on any input."""

    def __init__(self) -> None:
        self.thread_id: str | None = None
        self.tokens: TokensUsed | None = None
        self._announced: set[str] = set()
        self._partial_calls: dict[str, dict[str, Any]] = {}
        self.pending_error: str | None = None
        """A top-level ``error`` not yet followed by ``turn.failed`` / ``turn.completed``."""

    def parse_line(self, line: str) -> list[CliEvent]:
        stripped = line.strip()
        if not stripped:
            return []
        if stripped[0] not in "{[":
            return [TextDelta(line)]
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            return [
                ErrorEvent(
                    f"codex printed a truncated or malformed JSON line ({exc.msg} at char "
                    f"{exc.pos} of {len(stripped)}): {_excerpt(stripped)}",
                    recoverable=True,
                )
            ]
        if not isinstance(value, dict):
            return [TextDelta(line)]
        return self.parse_event(value)

    def parse_event(self, event: dict[str, Any]) -> list[CliEvent]:
        kind = event.get("type")
        if kind == "thread.started":
            tid = event.get("thread_id")
            if isinstance(tid, str) and tid:
                self.thread_id = tid
            return [Metadata({"type": "codex_thread", "thread_id": self.thread_id})]
        if kind == "turn.started":
            return [Metadata({"type": "codex_turn_started", "thread_id": self.thread_id})]
        if kind == "turn.completed":
            events: list[CliEvent] = []
            if self.pending_error is not None:
                events.append(ErrorEvent(self.pending_error, recoverable=True))
                self.pending_error = None
            return [*events, *self._usage(event.get("usage"))]
        if kind == "error":
            # A stream error is fatal only when the turn then fails: codex also reports
            # transient trouble (a reconnect) this way and goes on. Hold it until we know.
            self.pending_error = f"codex: {error_message_of(event.get('message'))}"
            return []
        if kind == "turn.failed":
            message = f"codex: {error_message_of(event.get('error'))}"
            if message == "codex: null" and self.pending_error:
                message = self.pending_error
            self.pending_error = None
            return [ErrorEvent(message, recoverable=False)]
        item = event.get("item")
        if not isinstance(item, dict):
            if kind in ("item.started", "item.updated", "item.completed", "item.added"):
                return []
            return [Metadata({"type": "codex_unhandled", "line": event})]
        if kind == "item.started":
            return self._started(item)
        if kind == "item.completed":
            return self._completed(item)
        if kind in ("item.added", "item.delta"):
            self._buffer_call(item)
            return []
        if kind == "item.updated":
            return []
        return [Metadata({"type": "codex_unhandled", "line": event})]

    # -- pieces -------------------------------------------------------------------------

    def _usage(self, usage: Any) -> list[CliEvent]:
        if not isinstance(usage, dict):
            return []
        previous = self.tokens or TokensUsed(input=0, output=0)
        cached = _int(usage.get("cached_input_tokens")) + (previous.cached or 0)
        writes = _int(usage.get("cache_write_input_tokens")) + (previous.cache_writes or 0)
        self.tokens = TokensUsed(
            input=previous.input + _int(usage.get("input_tokens")),
            output=previous.output + _int(usage.get("output_tokens")),
            cached=cached,
            cache_writes=writes,
        )
        return [
            Metadata(
                {
                    "type": "codex_usage",
                    "thread_id": self.thread_id,
                    "usage": usage,
                    "tokens_used": self.tokens.to_wire(),
                }
            )
        ]

    def _call_of(self, item: dict[str, Any]) -> ToolCall | None:
        itype = item.get("type")
        if itype == "command_execution":
            return ToolCall("shell", {"command": item.get("command")})
        if itype == "mcp_tool_call":
            server = item.get("server")
            return ToolCall(
                str(item.get("tool") or "unknown"),
                item.get("arguments"),
                server if isinstance(server, str) else None,
            )
        if itype == "web_search":
            return ToolCall("web_search", {"query": item.get("query")})
        if itype == "file_change":
            return ToolCall("file_change", {"changes": item.get("changes")})
        return None

    def _started(self, item: dict[str, Any]) -> list[CliEvent]:
        call = self._call_of(item)
        if call is None:
            return []
        item_id = item.get("id")
        if isinstance(item_id, str):
            self._announced.add(item_id)
        return [call]

    def _announce(self, item: dict[str, Any]) -> list[CliEvent]:
        """The tool call, unless ``item.started`` already reported it."""
        item_id = item.get("id")
        if isinstance(item_id, str) and item_id in self._announced:
            self._announced.discard(item_id)
            return []
        call = self._call_of(item)
        return [call] if call is not None else []

    def _completed(self, item: dict[str, Any]) -> list[CliEvent]:
        itype = item.get("type")
        if itype == "reasoning":
            text = item.get("text")
            return [Thinking(text)] if isinstance(text, str) and text else []
        if itype == "agent_message":
            text = item.get("text")
            return [FinalText(text)] if isinstance(text, str) else []
        if itype == "message":
            parts = item.get("content")
            texts = [
                p["text"]
                for p in parts or []
                if isinstance(p, dict)
                and p.get("type") in ("output_text", "text")
                and isinstance(p.get("text"), str)
            ]
            return [FinalText("".join(texts))] if texts else []
        if itype == "command_execution":
            code = item.get("exit_code")
            ok = code == 0 and item.get("status") in (None, "completed")
            return [
                *self._announce(item),
                ToolResult(
                    "shell",
                    {"exit_code": code, "output": item.get("aggregated_output")},
                    ok,
                ),
            ]
        if itype == "file_change":
            ok = item.get("status") in (None, "completed")
            return [*self._announce(item), ToolResult("file_change", item.get("changes"), ok)]
        if itype == "mcp_tool_call":
            ok = item.get("status") in (None, "completed") and not item.get("error")
            output = item.get("result") if ok else item.get("error")
            return [
                *self._announce(item),
                ToolResult(str(item.get("tool") or "unknown"), output, ok),
            ]
        if itype == "web_search":
            return [*self._announce(item), ToolResult("web_search", item.get("query"), True)]
        if itype == "function_call":
            call_id = str(item.get("call_id") or item.get("id") or "")
            partial = self._partial_calls.pop(call_id, {})
            name = item.get("name") or partial.get("name") or "unknown"
            raw = item.get("arguments")
            if raw is None:
                raw = partial.get("arguments")
            return [ToolCall(str(name), _parse_arguments(raw))]
        if itype in ("function_call_output", "tool_result"):
            output = item.get("output", item.get("content"))
            name = item.get("name") or item.get("call_id") or "unknown"
            return [ToolResult(str(name), output, not bool(item.get("is_error")))]
        if itype == "error":
            message = item.get("message")
            return [ErrorEvent(f"codex: {message}", recoverable=True)]
        if itype == "todo_list":
            return [Metadata({"type": "codex_todo_list", "items": item.get("items")})]
        return [Metadata({"type": "codex_item", "item": item})]

    def _buffer_call(self, item: dict[str, Any]) -> None:
        if item.get("type") != "function_call":
            return
        call_id = str(item.get("call_id") or item.get("id") or "")
        partial = self._partial_calls.setdefault(call_id, {"arguments": ""})
        if isinstance(item.get("name"), str):
            partial["name"] = item["name"]
        if isinstance(item.get("arguments"), str) and item["arguments"]:
            partial["arguments"] = item["arguments"]
        delta = item.get("arguments_delta")
        if isinstance(delta, str):
            partial["arguments"] = str(partial.get("arguments") or "") + delta
