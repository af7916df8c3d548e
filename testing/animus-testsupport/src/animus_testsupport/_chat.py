"""OpenAI chat completions (`POST /v1/chat/completions`), streaming and not, with tool_calls."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from animus_testsupport._script import ErrorReply, Turn
from animus_testsupport._wire import BadRequest, chunks, estimate_tokens, new_id, sse, text_of

__all__ = ["completion", "error_body", "latest_input", "stream", "stream_error", "validate"]


def validate(body: Any) -> None:
    if not isinstance(body, dict):
        raise BadRequest("chat completions request: the body must be a JSON object")
    if not isinstance(body.get("model"), str):
        raise BadRequest("chat completions request: 'model' (a string) is required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("chat completions request: 'messages' must be a non-empty list")


def latest_input(body: Mapping[str, Any]) -> str:
    """Text of the trailing user and tool messages."""
    newest: list[str] = []
    for msg in reversed(body.get("messages") or []):
        if isinstance(msg, dict) and msg.get("role") in ("user", "tool"):
            newest.append(text_of(msg.get("content")))
        else:
            break
    return "\n".join(reversed(newest))


def error_body(err: ErrorReply) -> Any:
    if err.body is not None:
        return err.body
    kind = err.type or ("invalid_request_error" if err.status < 500 else "server_error")
    return {"error": {"message": err.message, "type": kind, "param": None, "code": None}}


def _tool_calls(turn: Turn) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id or new_id("call_"),
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(dict(call.input))},
        }
        for call in turn.tool_calls
    ]


def _usage(turn: Turn, body: Mapping[str, Any], output: Any) -> dict[str, int]:
    prompt = turn.input_tokens or estimate_tokens(body.get("messages"))
    completion_tokens = turn.output_tokens or estimate_tokens(output)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }


def _finish_reason(turn: Turn) -> str:
    return "tool_calls" if turn.tool_calls else "stop"


def completion(turn: Turn, body: Mapping[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": turn.text}
    if turn.thinking is not None:
        message["reasoning_content"] = turn.thinking
    calls = _tool_calls(turn)
    if calls:
        message["tool_calls"] = calls
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": _finish_reason(turn)}],
        "usage": _usage(turn, body, message),
    }


def stream(turn: Turn, body: Mapping[str, Any]) -> Iterator[bytes]:
    ident, created, model = new_id("chatcmpl-"), int(time.time()), body.get("model")

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse(
            {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    yield chunk({"role": "assistant", "content": ""})
    for piece in chunks(turn.thinking or "", turn.chunk_size):
        yield chunk({"reasoning_content": piece})
    for piece in chunks(turn.text or "", turn.chunk_size):
        yield chunk({"content": piece})
    calls = _tool_calls(turn)
    for index, call in enumerate(calls):
        head = {"index": index, "id": call["id"], "type": "function"}
        yield chunk({"tool_calls": [head | {"function": {"name": call["function"]["name"]}}]})
        for piece in chunks(call["function"]["arguments"], turn.chunk_size):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, _finish_reason(turn))
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        output = {"content": turn.text, "tool_calls": calls}
        yield sse(
            {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": _usage(turn, body, output),
            }
        )
    yield sse("[DONE]")


def stream_error(message: str) -> bytes:
    """An `error` object in place of the next chunk (how OpenAI-compatible servers fail)."""
    return sse({"error": {"message": message, "type": "server_error", "param": None, "code": None}})
