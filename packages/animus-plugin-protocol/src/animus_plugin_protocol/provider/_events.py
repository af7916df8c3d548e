"""Normalized events a CLI parser returns, whatever the CLI's own output looks like."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from animus_plugin_protocol.kinds.provider import TokensUsed

__all__ = [
    "CliEvent",
    "ErrorEvent",
    "FinalText",
    "Metadata",
    "TextDelta",
    "Thinking",
    "ToolCall",
    "ToolResult",
    "tokens_from_metadata",
]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of streamed answer text (``agent/output`` with ``final: false``)."""

    text: str


@dataclass(frozen=True, slots=True)
class FinalText:
    """The answer (``agent/output`` with ``final: true``); the last one is the run's output."""

    text: str


@dataclass(frozen=True, slots=True)
class Thinking:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: Any = None
    server: str | None = None


@dataclass(frozen=True, slots=True)
class ToolResult:
    name: str
    output: Any = None
    success: bool = True


@dataclass(frozen=True, slots=True)
class Metadata:
    """Anything worth keeping in the response's ``metadata`` (session ids, usage, ...)."""

    metadata: Any


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """An error; a non-recoverable one ends the run."""

    message: str
    recoverable: bool = True


CliEvent = TextDelta | FinalText | Thinking | ToolCall | ToolResult | Metadata | ErrorEvent


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def tokens_from_metadata(metadata: Any) -> TokensUsed | None:
    """Token usage from a usage-bearing metadata object, if it is one.

    Understands ``{"tokens_used": {input, output}}``, a ``usage`` object in the Claude /
    Codex spellings (``input_tokens``, ``output_tokens``, ``cache_read_input_tokens`` or
    ``cached_input_tokens``, ``cache_creation_input_tokens``) and that object at top level.
    """
    if not isinstance(metadata, dict):
        return None
    direct = metadata.get("tokens_used")
    if isinstance(direct, dict):
        inp, out = _int(direct.get("input")), _int(direct.get("output"))
        if inp is not None and out is not None:
            return TokensUsed(
                input=inp,
                output=out,
                cached=_int(direct.get("cached")),
                cache_writes=_int(direct.get("cache_writes")),
            )
    usage = metadata.get("usage")
    source = usage if isinstance(usage, dict) else metadata
    inp, out = _int(source.get("input_tokens")), _int(source.get("output_tokens"))
    if inp is None or out is None:
        return None
    cached = _int(source.get("cache_read_input_tokens"))
    if cached is None:
        cached = _int(source.get("cached_input_tokens"))
    return TokensUsed(
        input=inp,
        output=out,
        cached=cached,
        cache_writes=_int(source.get("cache_creation_input_tokens")),
    )
