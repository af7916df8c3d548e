"""The script a `ScriptedModelServer` plays: turns, what each answers, and which requests it takes.

A script is plain data (JSON-compatible) so the same script works in-process and in a
subprocess started with `python -m animus_testsupport.model_server --script FILE`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ErrorReply",
    "Match",
    "Script",
    "ScriptError",
    "ToolCall",
    "Turn",
    "load_script",
]

API_NAMES = ("anthropic", "responses", "chat", "gemini")


class ScriptError(ValueError):
    """A script (or one turn of it) is malformed; the message names the offending field."""


def _check_keys(where: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScriptError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")


def _opt_str(where: str, data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ScriptError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    return value


def _number(where: str, data: Mapping[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ScriptError(f"{where}.{key}: expected a non-negative number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ToolCall:
    """One tool call the scripted model makes.

    `input` is the tool's JSON arguments (Anthropic `tool_use.input`, OpenAI function
    `arguments`). With `custom=True` the call is a Responses API `custom_tool_call` whose raw
    string input is `raw_input` (codex's free-form `apply_patch` tool).
    """

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    custom: bool = False
    raw_input: str | None = None

    @classmethod
    def from_data(cls, where: str, data: Any) -> ToolCall:
        if not isinstance(data, Mapping):
            raise ScriptError(f"{where}: a tool call must be an object, got {type(data).__name__}")
        _check_keys(where, data, {"name", "input", "id", "custom", "raw_input"})
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise ScriptError(f"{where}.name: a tool call needs a non-empty tool name")
        arguments = data.get("input", {})
        if not isinstance(arguments, Mapping):
            raise ScriptError(f"{where}.input: expected an object of tool arguments")
        custom = bool(data.get("custom", False))
        raw_input = _opt_str(where, data, "raw_input")
        if custom and raw_input is None:
            raise ScriptError(f"{where}.raw_input: a custom tool call needs its raw string input")
        return cls(name, dict(arguments), _opt_str(where, data, "id"), custom, raw_input)


@dataclass(frozen=True)
class ErrorReply:
    """Answer with an HTTP error instead of a completion.

    `body` replaces the API-shaped error document when given (any JSON value, or a string sent
    verbatim).
    """

    status: int = 500
    message: str = "scripted error"
    type: str | None = None
    body: Any = None

    @classmethod
    def from_data(cls, where: str, data: Any) -> ErrorReply:
        if not isinstance(data, Mapping):
            raise ScriptError(f"{where}: expected an object like {{'status': 500}}")
        _check_keys(where, data, {"status", "message", "type", "body"})
        status = data.get("status", 500)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ScriptError(f"{where}.status: expected an HTTP error status 400-599")
        message = _opt_str(where, data, "message") or "scripted error"
        return cls(status, message, _opt_str(where, data, "type"), data.get("body"))


@dataclass(frozen=True)
class Match:
    """Which requests a turn may answer; every given condition must hold.

    `contains`: substring of the request's newest input (the last user message, or the tool
    results sent back). `body_contains`: substring of the whole raw request body. `model`: the
    requested model equals this. `api`: one of anthropic, responses, chat, gemini.
    """

    contains: str | None = None
    body_contains: str | None = None
    model: str | None = None
    api: str | None = None

    @classmethod
    def from_data(cls, where: str, data: Any) -> Match:
        if not isinstance(data, Mapping):
            raise ScriptError(f"{where}: expected an object like {{'contains': 'review'}}")
        _check_keys(where, data, {"contains", "body_contains", "model", "api"})
        api = _opt_str(where, data, "api")
        if api is not None and api not in API_NAMES:
            raise ScriptError(f"{where}.api: expected one of {list(API_NAMES)}, got {api!r}")
        return cls(
            _opt_str(where, data, "contains"),
            _opt_str(where, data, "body_contains"),
            _opt_str(where, data, "model"),
            api,
        )

    def accepts(self, *, api: str, model: str | None, latest_input: str, raw_body: str) -> bool:
        if self.api is not None and self.api != api:
            return False
        if self.model is not None and self.model != model:
            return False
        if self.contains is not None and self.contains not in latest_input:
            return False
        return self.body_contains is None or self.body_contains in raw_body


@dataclass(frozen=True)
class Turn:
    """One scripted model answer.

    The answer is `error` if set, else an assistant message made of `thinking`, `text` and
    `tool_calls` (in that order). Streams are cut into `chunk_size`-character deltas with
    `chunk_delay` seconds between them; `first_byte_delay` holds back the response headers.
    `cut_after` ends a stream after that many SSE frames: with `stream_error` (a message) the
    API's in-stream error event is sent, otherwise the connection is dropped mid-stream.
    `times` is how many requests the turn answers before it is used up (0 = unlimited).
    """

    text: str | None = None
    thinking: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    error: ErrorReply | None = None
    match: Match | None = None
    chunk_size: int = 24
    chunk_delay: float = 0.0
    first_byte_delay: float = 0.0
    cut_after: int | None = None
    stream_error: str | None = None
    times: int = 1
    input_tokens: int | None = None
    output_tokens: int | None = None

    FIELDS = frozenset(
        {
            "text",
            "thinking",
            "tool_calls",
            "error",
            "match",
            "chunk_size",
            "chunk_delay",
            "first_byte_delay",
            "cut_after",
            "stream_error",
            "times",
            "usage",
        }
    )

    @classmethod
    def from_data(cls, where: str, data: Any) -> Turn:
        if isinstance(data, Turn):
            return data
        if isinstance(data, str):
            return cls(text=data)
        if not isinstance(data, Mapping):
            raise ScriptError(f"{where}: a turn must be an object or a string, got {data!r}")
        _check_keys(where, data, set(cls.FIELDS))
        raw_calls = data.get("tool_calls", [])
        if not isinstance(raw_calls, Sequence) or isinstance(raw_calls, str):
            raise ScriptError(f"{where}.tool_calls: expected a list of tool calls")
        calls = tuple(
            ToolCall.from_data(f"{where}.tool_calls[{i}]", c) for i, c in enumerate(raw_calls)
        )
        error = (
            ErrorReply.from_data(f"{where}.error", data["error"])
            if data.get("error") is not None
            else None
        )
        match = (
            Match.from_data(f"{where}.match", data["match"])
            if data.get("match") is not None
            else None
        )
        text = _opt_str(where, data, "text")
        thinking = _opt_str(where, data, "thinking")
        if error is None and text is None and thinking is None and not calls:
            raise ScriptError(f"{where}: a turn needs text, thinking, tool_calls or error")
        chunk_size = data.get("chunk_size", 24)
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ScriptError(f"{where}.chunk_size: expected a positive integer")
        if data.get("stream_error") is not None and data.get("cut_after") is None:
            raise ScriptError(f"{where}.stream_error: needs cut_after (frames sent before it)")
        times = data.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise ScriptError(f"{where}.times: expected a non-negative integer (0 = unlimited)")
        usage = data.get("usage") or {}
        if not isinstance(usage, Mapping):
            raise ScriptError(f"{where}.usage: expected {{'input_tokens': n, 'output_tokens': n}}")
        _check_keys(f"{where}.usage", usage, {"input_tokens", "output_tokens"})
        return cls(
            text=text,
            thinking=thinking,
            tool_calls=calls,
            error=error,
            match=match,
            chunk_size=chunk_size,
            chunk_delay=_number(where, data, "chunk_delay", 0.0),
            first_byte_delay=_number(where, data, "first_byte_delay", 0.0),
            cut_after=_opt_int(where, data, "cut_after"),
            stream_error=_opt_str(where, data, "stream_error"),
            times=times,
            input_tokens=_opt_int(f"{where}.usage", usage, "input_tokens"),
            output_tokens=_opt_int(f"{where}.usage", usage, "output_tokens"),
        )


def _opt_int(where: str, data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScriptError(f"{where}.{key}: expected a non-negative integer")
    return value


@dataclass(frozen=True)
class Script:
    """Turns played in order (a turn with `match` waits for a request it accepts).

    `default` answers requests no remaining turn accepts (e.g. a CLI's background title or
    quota requests); it is never used up. Without it such requests get a clear HTTP 400.
    """

    turns: tuple[Turn, ...] = ()
    default: Turn | None = None

    @classmethod
    def from_data(cls, data: Any) -> Script:
        if isinstance(data, Script):
            return data
        if isinstance(data, Mapping):
            _check_keys("script", data, {"turns", "default"})
            turns = data.get("turns", [])
            default = data.get("default")
        else:
            turns, default = data, None
        if not isinstance(turns, Sequence) or isinstance(turns, str):
            raise ScriptError("script.turns: expected a list of turns")
        return cls(
            tuple(Turn.from_data(f"turns[{i}]", t) for i, t in enumerate(turns)),
            Turn.from_data("default", default) if default is not None else None,
        )


def load_script(path: str | Path) -> Script:
    """Read a script from a JSON file: a list of turns or `{"turns": [...], "default": {...}}`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScriptError(f"cannot read script {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ScriptError(f"script {path} is not valid JSON: {exc}") from exc
    return Script.from_data(data)
