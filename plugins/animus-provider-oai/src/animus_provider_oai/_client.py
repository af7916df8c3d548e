"""One streamed ``POST /chat/completions`` call: SSE chunks -> an assembled assistant turn."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["ModelError", "ModelTurn", "stream_completion"]

_BODY_EXCERPT = 300


class ModelError(Exception):
    """The endpoint failed: an HTTP error status, an in-stream error, or no connection."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass
class ModelTurn:
    """What the model said in one turn."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None

    def assistant_message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return message


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _BODY_EXCERPT else f"{text[:_BODY_EXCERPT]}..."


def _error_text(document: Any) -> str | None:
    if isinstance(document, dict):
        error = document.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return None


async def stream_completion(
    client: httpx.AsyncClient,
    url: str,
    *,
    api_key: str,
    body: Mapping[str, Any],
    on_text: Callable[[str], None],
    on_problem: Callable[[str], None],
) -> ModelTurn:
    """Send the request and assemble the streamed answer; `on_text` gets each content delta,
    `on_problem` each recoverable oddity (a malformed chunk is skipped, not fatal)."""
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "text/event-stream"}
    turn = ModelTurn()
    calls: dict[int, dict[str, Any]] = {}
    try:
        async with client.stream("POST", url, json=dict(body), headers=headers) as response:
            if response.status_code >= 400:
                raw = (await response.aread()).decode("utf-8", errors="replace")
                try:
                    detail = _error_text(json.loads(raw)) or raw
                except ValueError:
                    detail = raw
                raise ModelError(
                    f"{url} answered HTTP {response.status_code}: "
                    f"{_excerpt(detail) or '(empty body)'}",
                    status=response.status_code,
                )
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except ValueError as exc:
                    on_problem(
                        f"skipped a truncated or malformed stream chunk from {url} "
                        f"({exc}): {_excerpt(data)}"
                    )
                    continue
                _apply_chunk(turn, calls, chunk, on_text, url)
    except httpx.HTTPError as exc:
        raise ModelError(f"cannot reach {url}: {type(exc).__name__}: {exc}") from None
    turn.tool_calls = [calls[i] for i in sorted(calls)]
    return turn


def _apply_chunk(
    turn: ModelTurn,
    calls: dict[int, dict[str, Any]],
    chunk: Any,
    on_text: Callable[[str], None],
    url: str,
) -> None:
    if not isinstance(chunk, dict):
        return
    error = _error_text(chunk)
    if error is not None:
        raise ModelError(f"{url} reported an error mid-stream: {_excerpt(error)}")
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        turn.usage = usage
    for choice in chunk.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        if choice.get("finish_reason"):
            turn.finish_reason = str(choice["finish_reason"])
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            continue
        text = delta.get("content")
        if isinstance(text, str) and text:
            turn.content += text
            on_text(text)
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str):
            turn.reasoning += reasoning
        for piece in delta.get("tool_calls") or []:
            if not isinstance(piece, dict):
                continue
            index = piece.get("index", len(calls))
            call = calls.setdefault(
                int(index),
                {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
            )
            if isinstance(piece.get("id"), str):
                call["id"] = piece["id"]
            function = piece.get("function")
            if isinstance(function, dict):
                if isinstance(function.get("name"), str):
                    call["function"]["name"] += function["name"]
                if isinstance(function.get("arguments"), str):
                    call["function"]["arguments"] += function["arguments"]
