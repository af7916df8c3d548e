"""A tiny stdlib HTTP client for poking a `ScriptedModelServer` (and parsing its SSE streams)."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Reply", "anthropic_body", "call", "parse_sse"]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[tuple[str | None, Any]]:
        return parse_sse(self.body)


def parse_sse(body: bytes | str) -> list[tuple[str | None, Any]]:
    """Parse an SSE body into (event name, decoded JSON data) pairs (`[DONE]` kept as is)."""
    text = body.decode() if isinstance(body, bytes) else body
    parsed: list[tuple[str | None, Any]] = []
    for frame in text.split("\n\n"):
        if not frame.strip():
            continue
        name, data = None, ""
        for line in frame.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        parsed.append((name, data if data == "[DONE]" else json.loads(data)))
    return parsed


def call(
    base_url: str,
    path: str,
    body: Any = None,
    *,
    method: str = "POST",
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Send one request and read the whole reply (30 s socket timeout)."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        payload = (
            raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        )
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=payload, headers=all_headers)
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def anthropic_body(prompt: str = "hi", *, stream: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-6",
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": prompt}],
        **extra,
    }
