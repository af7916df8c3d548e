"""OpenAI Responses API (`POST /v1/responses`), the dialect codex speaks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from animus_testsupport._script import ErrorReply, Turn
from animus_testsupport._wire import BadRequest, chunks, estimate_tokens, new_id, sse, text_of

__all__ = ["error_body", "latest_input", "response", "stream", "stream_error", "validate"]

# Items that carry new input to the model (as opposed to the model's own earlier output).
_INPUT_ITEM_TYPES = {"function_call_output", "custom_tool_call_output", "local_shell_call_output"}


def validate(body: Any) -> None:
    if not isinstance(body, dict):
        raise BadRequest("responses request: the body must be a JSON object")
    if not isinstance(body.get("model"), str):
        raise BadRequest("responses request: 'model' (a string) is required")
    if not isinstance(body.get("input"), str | list):
        raise BadRequest("responses request: 'input' (a string or a list of items) is required")


def latest_input(body: Mapping[str, Any]) -> str:
    """Text of the trailing user messages and tool outputs (what is new in this request)."""
    items = body.get("input")
    if isinstance(items, str):
        return items
    newest: list[str] = []
    for item in reversed(items or []):
        if not isinstance(item, dict):
            continue
        if item.get("role") == "user" or item.get("type") in _INPUT_ITEM_TYPES:
            newest.append(text_of(item.get("content", item.get("output"))))
        elif item.get("role") in ("system", "developer"):
            continue
        else:
            break
    return "\n".join(reversed(newest))


def error_body(err: ErrorReply) -> Any:
    if err.body is not None:
        return err.body
    kind = err.type or ("invalid_request_error" if err.status < 500 else "server_error")
    return {"error": {"message": err.message, "type": kind, "param": None, "code": None}}


def _items(turn: Turn) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if turn.thinking is not None:
        items.append(
            {
                "type": "reasoning",
                "id": new_id("rs_"),
                "summary": [{"type": "summary_text", "text": turn.thinking}],
            }
        )
    if turn.text is not None:
        items.append(
            {
                "type": "message",
                "id": new_id("msg_"),
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": turn.text, "annotations": []}],
            }
        )
    for call in turn.tool_calls:
        if call.custom:
            items.append(
                {
                    "type": "custom_tool_call",
                    "id": new_id("ctc_"),
                    "call_id": call.id or new_id("call_"),
                    "name": call.name,
                    "input": call.raw_input or "",
                    "status": "completed",
                }
            )
        else:
            items.append(
                {
                    "type": "function_call",
                    "id": new_id("fc_"),
                    "call_id": call.id or new_id("call_"),
                    "name": call.name,
                    "arguments": json.dumps(dict(call.input)),
                    "status": "completed",
                }
            )
    return items


def response(turn: Turn, body: Mapping[str, Any], items: list[dict[str, Any]] | None = None) -> Any:
    output = _items(turn) if items is None else items
    input_tokens = turn.input_tokens or estimate_tokens(body.get("input"))
    output_tokens = turn.output_tokens or estimate_tokens(output)
    return {
        "id": new_id("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": body.get("model"),
        "output": output,
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }


def stream(turn: Turn, body: Mapping[str, Any]) -> Iterator[bytes]:
    items = _items(turn)
    final = response(turn, body, items)
    opening = final | {"status": "in_progress", "output": [], "usage": None}
    seq = 0

    def event(kind: str, **fields: Any) -> bytes:
        nonlocal seq
        seq += 1
        return sse({"type": kind, "sequence_number": seq, **fields}, kind)

    yield event("response.created", response=opening)
    yield event("response.in_progress", response=opening)
    for index, item in enumerate(items):
        kind = item["type"]
        if kind == "message":
            yield event(
                "response.output_item.added",
                output_index=index,
                item=item
                | {
                    "status": "in_progress",
                    "content": [],
                },
            )
            part = {"type": "output_text", "text": "", "annotations": []}
            common = {"item_id": item["id"], "output_index": index, "content_index": 0}
            yield event("response.content_part.added", **common, part=part)
            text = item["content"][0]["text"]
            for piece in chunks(text, turn.chunk_size):
                yield event("response.output_text.delta", **common, delta=piece)
            yield event("response.output_text.done", **common, text=text)
            yield event("response.content_part.done", **common, part=item["content"][0])
        elif kind == "reasoning":
            yield event(
                "response.output_item.added",
                output_index=index,
                item=item
                | {
                    "summary": [],
                },
            )
            common = {"item_id": item["id"], "output_index": index, "summary_index": 0}
            text = item["summary"][0]["text"]
            yield event(
                "response.reasoning_summary_part.added",
                **common,
                part={"type": "summary_text", "text": ""},
            )
            for piece in chunks(text, turn.chunk_size):
                yield event("response.reasoning_summary_text.delta", **common, delta=piece)
            yield event("response.reasoning_summary_text.done", **common, text=text)
            yield event("response.reasoning_summary_part.done", **common, part=item["summary"][0])
        elif kind == "function_call":
            yield event(
                "response.output_item.added",
                output_index=index,
                item=item
                | {
                    "arguments": "",
                    "status": "in_progress",
                },
            )
            for piece in chunks(item["arguments"], turn.chunk_size):
                yield event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=piece,
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                arguments=item["arguments"],
            )
        else:
            yield event("response.output_item.added", output_index=index, item=item)
        yield event("response.output_item.done", output_index=index, item=item)
    yield event("response.completed", response=final)


def stream_error(message: str) -> bytes:
    """`response.failed` with the error, as the API ends a stream that fails mid-way."""
    failed: dict[str, Any] = {
        "id": new_id("resp_"),
        "object": "response",
        "status": "failed",
        "error": {"code": "server_error", "message": message},
        "output": [],
        "usage": None,
    }
    return sse({"type": "response.failed", "response": failed}, "response.failed")
