"""Shared helpers for the three wire dialects: ids, chunking, SSE frames, token estimates."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

__all__ = ["BadRequest", "chunks", "estimate_tokens", "new_id", "sse", "text_of"]


class BadRequest(ValueError):
    """The request cannot be answered; the message says why (sent back as HTTP 400)."""


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


def chunks(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event; `data` is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def estimate_tokens(value: Any) -> int:
    """A stable, plausible token count (about four characters a token)."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return max(1, len(text) // 4)


def text_of(content: Any) -> str:
    """Flatten message content (a string, or a list of typed parts) into plain text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        for key in ("text", "content", "output", "input"):
            if key in content:
                return text_of(content[key])
        return ""
    if isinstance(content, list):
        return "\n".join(filter(None, (text_of(part) for part in content)))
    return str(content)
