"""Anthropic Messages API (`POST /v1/messages`): JSON replies and the SSE event sequence."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from animus_testsupport._script import ErrorReply, Turn
from animus_testsupport._wire import BadRequest, chunks, estimate_tokens, new_id, sse, text_of

__all__ = ["error_body", "latest_input", "message", "stream", "stream_error", "validate"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def validate(body: Any) -> None:
    if not isinstance(body, dict):
        raise BadRequest("messages request: the body must be a JSON object")
    if not isinstance(body.get("model"), str):
        raise BadRequest("messages request: 'model' (a string) is required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages request: 'messages' must be a non-empty list")
    if not isinstance(body.get("max_tokens"), int):
        raise BadRequest("messages request: 'max_tokens' (an integer) is required")


def latest_input(body: Mapping[str, Any]) -> str:
    """The text of the last user message: typed text, or the tool results sent back."""
    for msg in reversed(body.get("messages") or []):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return text_of(msg.get("content"))
    return ""


def error_body(err: ErrorReply) -> Any:
    if err.body is not None:
        return err.body
    kind = err.type or _ERROR_TYPES.get(err.status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": err.message}}


def _blocks(turn: Turn) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if turn.thinking is not None:
        blocks.append({"type": "thinking", "thinking": turn.thinking, "signature": new_id("sig")})
    if turn.text is not None:
        blocks.append({"type": "text", "text": turn.text})
    for call in turn.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id or new_id("toolu_"),
                "name": call.name,
                "input": dict(call.input),
            }
        )
    return blocks


def _usage(turn: Turn, body: Mapping[str, Any], blocks: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "input_tokens": turn.input_tokens or estimate_tokens(body.get("messages")),
        "output_tokens": turn.output_tokens or estimate_tokens(blocks),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _stop_reason(turn: Turn) -> str:
    return "tool_use" if turn.tool_calls else "end_turn"


def message(turn: Turn, body: Mapping[str, Any]) -> dict[str, Any]:
    blocks = _blocks(turn)
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": blocks,
        "stop_reason": _stop_reason(turn),
        "stop_sequence": None,
        "usage": _usage(turn, body, blocks),
    }


def stream(turn: Turn, body: Mapping[str, Any]) -> Iterator[bytes]:
    """The event sequence of a streamed message, one SSE frame per item."""
    blocks = _blocks(turn)
    usage = _usage(turn, body, blocks)
    start = message(turn, body) | {
        "content": [],
        "stop_reason": None,
        "usage": usage | {"output_tokens": 1},
    }
    yield sse({"type": "message_start", "message": start}, "message_start")
    yield sse({"type": "ping"}, "ping")
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "thinking":
            opening: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": piece}
                for piece in chunks(block["thinking"], turn.chunk_size)
            ]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            opening = {"type": "text", "text": ""}
            deltas = [
                {"type": "text_delta", "text": piece}
                for piece in chunks(block["text"], turn.chunk_size)
            ]
        else:
            opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            arguments = json.dumps(block["input"])
            deltas = [
                {"type": "input_json_delta", "partial_json": piece}
                for piece in chunks(arguments, turn.chunk_size)
            ]
        yield sse(
            {"type": "content_block_start", "index": index, "content_block": opening},
            "content_block_start",
        )
        for delta in deltas:
            yield sse(
                {"type": "content_block_delta", "index": index, "delta": delta},
                "content_block_delta",
            )
        yield sse({"type": "content_block_stop", "index": index}, "content_block_stop")
    yield sse(
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(turn), "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
        "message_delta",
    )
    yield sse({"type": "message_stop"}, "message_stop")


def stream_error(message: str) -> bytes:
    """The in-stream `error` event (what the API sends when it fails mid-response)."""
    error = {"type": "error", "error": {"type": "overloaded_error", "message": message}}
    return sse(error, "error")
