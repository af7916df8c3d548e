"""The Gemini CLI's output -> normalized provider events.

Three shapes are understood:

* ``--output-format stream-json`` (what the plugin launches): one JSON object per line,
  ``init`` (``session_id`` — the resume id — and ``model``), ``message`` (``role``,
  ``content``, ``delta``), ``tool_use`` (``tool_name``, ``tool_id``, ``parameters``),
  ``tool_result`` (``tool_id``, ``status``, ``output`` / ``error``), ``error``
  (``severity``, ``message``) and ``result`` (``status``, ``error``, ``stats``);
* ``--output-format json``: one pretty-printed document (``session_id``, ``response``,
  ``stats.models.<name>.tokens``, ``error``) spread over many lines, re-assembled here;
* older streaming-style lines (``partialResult``, ``functionCall``, ``functionResponse``,
  a bare ``{text}``).
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
    ToolCall,
    ToolResult,
)

__all__ = ["GeminiStreamParser", "tokens_from_stats"]

_EXCERPT = 200
# A pretty-printed ``json`` document is re-assembled from its lines up to this size.
_MAX_DOCUMENT_CHARS = 16 * 1024 * 1024


def _excerpt(line: str) -> str:
    return line if len(line) <= _EXCERPT else f"{line[:_EXCERPT]}... ({len(line)} chars)"


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def tokens_from_stats(stats: Any) -> TokensUsed | None:
    """Token usage from a ``stats`` object of either output format.

    stream-json: ``{input_tokens, output_tokens, cached}``; json:
    ``{models: {<name>: {tokens: {prompt|input, candidates, cached, thoughts}}}}`` (summed).
    """
    if not isinstance(stats, dict):
        return None
    if "input_tokens" in stats or "output_tokens" in stats:
        return TokensUsed(
            input=_count(stats.get("input_tokens")),
            output=_count(stats.get("output_tokens")),
            cached=_count(stats.get("cached")) or None,
        )
    models = stats.get("models")
    if not isinstance(models, dict) or not models:
        return None
    inp = out = cached = 0
    for entry in models.values():
        tokens = entry.get("tokens") if isinstance(entry, dict) else None
        if not isinstance(tokens, dict):
            continue
        inp += _count(tokens.get("prompt", tokens.get("input")))
        out += _count(tokens.get("candidates")) + _count(tokens.get("thoughts"))
        cached += _count(tokens.get("cached"))
    return TokensUsed(input=inp, output=out, cached=cached or None)


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str) and message:
            return message
        return json.dumps(error)
    return str(error)


class GeminiStreamParser:
    """Stateful parser for one gemini run; `parse_line` never raises on any input."""

    def __init__(self) -> None:
        self.session_id: str | None = None
        self.model: str | None = None
        self.tokens: TokensUsed | None = None
        self._tool_names: dict[str, str] = {}
        self._turn_text: list[str] = []  # assistant text since the last tool call
        self._document: list[str] | None = None
        self._document_chars = 0

    # -- lines ----------------------------------------------------------------------------

    def parse_line(self, line: str) -> list[CliEvent]:
        stripped = line.strip()
        if self._document is not None:
            return self._continue_document(line, stripped)
        if not stripped:
            return []
        if stripped == "{":
            # The first line of a pretty-printed `--output-format json` document.
            self._document, self._document_chars = [line], len(line)
            return []
        if stripped[0] not in "{[":
            return [TextDelta(line)]  # plain text on stdout: keep it
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            return [
                ErrorEvent(
                    f"gemini printed a truncated or malformed JSON line ({exc.msg} at char "
                    f"{exc.pos} of {len(stripped)}): {_excerpt(stripped)}",
                    recoverable=True,
                )
            ]
        if not isinstance(value, dict):
            return [TextDelta(line)]
        return self.parse_event(value)

    def finish(self) -> list[ErrorEvent]:
        """Events owed at end of output (an unterminated json document)."""
        if self._document is None:
            return []
        text = "\n".join(self._document)
        self._document = None
        return [
            ErrorEvent(
                f"gemini's JSON document was cut off after {len(text)} chars: {_excerpt(text)}",
                recoverable=True,
            )
        ]

    def _continue_document(self, line: str, stripped: str) -> list[CliEvent]:
        assert self._document is not None
        self._document.append(line)
        self._document_chars += len(line) + 1
        if self._document_chars > _MAX_DOCUMENT_CHARS:
            self._document = None
            return [
                ErrorEvent(
                    f"gemini's JSON document exceeds {_MAX_DOCUMENT_CHARS} chars; dropped",
                    recoverable=True,
                )
            ]
        if stripped != "}" or line[:1] != "}":
            return []  # only a closing brace at column 0 can end the top-level document
        text = "\n".join(self._document)
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return []  # not the end yet
        self._document = None
        return self.parse_document(value) if isinstance(value, dict) else []

    # -- stream-json ------------------------------------------------------------------------

    def parse_event(self, event: dict[str, Any]) -> list[CliEvent]:
        kind = event.get("type")
        if kind == "init":
            return self._init(event)
        if kind == "message":
            return self._message(event)
        if kind == "tool_use":
            return self._tool_use(event)
        if kind == "tool_result":
            return self._tool_result(event)
        if kind == "error":
            message = event.get("message")
            severity = event.get("severity")
            text = message if isinstance(message, str) else json.dumps(event)
            return [ErrorEvent(f"gemini {severity or 'error'}: {text}", recoverable=True)]
        if kind == "result":
            return self._result(event)
        if kind == "partialResult":
            partial = event.get("partialResult")
            piece = partial.get("text") if isinstance(partial, dict) else None
            return [TextDelta(piece)] if isinstance(piece, str) and piece else []
        if kind == "functionCall":
            call = event.get("functionCall")
            if isinstance(call, dict):
                return [ToolCall(str(call.get("name") or "unknown"), call.get("args"))]
            return []
        if kind == "functionResponse":
            response = event.get("functionResponse")
            if isinstance(response, dict):
                name = str(response.get("name") or "unknown")
                return [ToolResult(name, response.get("response"), True)]
            return []
        if kind is None and "session_id" in event and ("response" in event or "stats" in event):
            return self.parse_document(event)  # a compact one-line json document
        if kind is None and isinstance(event.get("text"), str):
            return [TextDelta(event["text"])]
        # A line type this parser does not know (a newer CLI): keep it, never fail on it.
        return [Metadata({"type": "gemini_unhandled", "line": event})]

    def _init(self, event: dict[str, Any]) -> list[CliEvent]:
        sid = event.get("session_id")
        if isinstance(sid, str) and sid:
            self.session_id = sid
        model = event.get("model")
        if isinstance(model, str):
            self.model = model
        return [Metadata({"type": "gemini_session", "session_id": sid, "model": model})]

    def _message(self, event: dict[str, Any]) -> list[CliEvent]:
        if event.get("role") != "assistant":
            return []  # the prompt echoed back
        content = event.get("content")
        if not isinstance(content, str) or not content:
            return []
        self._turn_text.append(content)
        if event.get("delta"):
            return [TextDelta(content)]
        return [FinalText("".join(self._turn_text))]

    def _tool_use(self, event: dict[str, Any]) -> list[CliEvent]:
        name = str(event.get("tool_name") or "unknown")
        tool_id = event.get("tool_id")
        if isinstance(tool_id, str):
            self._tool_names[tool_id] = name
        self._turn_text.clear()  # the answer is what the model says after its last tool
        return [ToolCall(name, event.get("parameters"))]

    def _tool_result(self, event: dict[str, Any]) -> list[CliEvent]:
        tool_id = event.get("tool_id")
        name = self._tool_names.get(tool_id) if isinstance(tool_id, str) else None
        if name is None:
            name = tool_id if isinstance(tool_id, str) else "unknown"
        success = event.get("status") == "success"
        if "output" in event:
            output: Any = event["output"]
        elif "error" in event:
            output = event["error"]
        else:
            output = None
        return [ToolResult(name, output, success)]

    def _result(self, event: dict[str, Any]) -> list[CliEvent]:
        events: list[CliEvent] = []
        stats = event.get("stats")
        tokens = tokens_from_stats(stats)
        if tokens is not None:
            self.tokens = tokens
        events.append(
            Metadata(
                {
                    "type": "gemini_stats",
                    "session_id": self.session_id,
                    "model": self.model,
                    "status": event.get("status"),
                    "stats": stats,
                    "tokens_used": tokens.to_wire() if tokens is not None else None,
                }
            )
        )
        if event.get("status") == "success":
            if self._turn_text:
                events.append(FinalText("".join(self._turn_text)))
        else:
            error = event.get("error")
            message = _error_text(error) if error is not None else "gemini run failed"
            events.append(ErrorEvent(message, recoverable=False))
        return events

    # -- json (one document) ----------------------------------------------------------------

    def parse_document(self, document: dict[str, Any]) -> list[CliEvent]:
        events: list[CliEvent] = []
        sid = document.get("session_id")
        if isinstance(sid, str) and sid:
            self.session_id = sid
            events.append(Metadata({"type": "gemini_session", "session_id": sid}))
        stats = document.get("stats")
        if stats is not None:
            tokens = tokens_from_stats(stats)
            if tokens is not None:
                self.tokens = tokens
            events.append(
                Metadata(
                    {
                        "type": "gemini_stats",
                        "session_id": self.session_id,
                        "stats": stats,
                        "tokens_used": tokens.to_wire() if tokens is not None else None,
                    }
                )
            )
        text = _document_text(document)
        if text is not None:
            events.append(FinalText(text))
        error = document.get("error")
        if error:
            events.append(ErrorEvent(_error_text(error), recoverable=False))
        return events


def _parts_text(parts: Any) -> str | None:
    if not isinstance(parts, list):
        return None
    texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "".join(texts) if texts else None


def _document_text(document: dict[str, Any]) -> str | None:
    response = document.get("response")
    if isinstance(response, str):
        return response
    content = document.get("content")
    if isinstance(content, dict):
        if isinstance(content.get("text"), str):
            return str(content["text"])
        found = _parts_text(content.get("parts"))
        if found is not None:
            return found
    candidates = document.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        inner = candidates[0].get("content")
        if isinstance(inner, dict):
            return _parts_text(inner.get("parts"))
    return None
