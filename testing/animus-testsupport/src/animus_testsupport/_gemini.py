"""The Gemini API (`POST /v1beta/models/<model>:generateContent` and `:streamGenerateContent`).

What the Gemini CLI speaks when `GOOGLE_GEMINI_BASE_URL` points at the server. The model is
named in the path, not the body; `:streamGenerateContent?alt=sse` answers with server-sent
events, each a whole `GenerateContentResponse` carrying the next piece of the answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from animus_testsupport._script import ErrorReply, Turn
from animus_testsupport._wire import BadRequest, chunks, estimate_tokens, new_id, text_of

__all__ = [
    "error_body",
    "is_sse",
    "latest_input",
    "model_of",
    "reply",
    "stream",
    "stream_error",
    "validate",
]

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def model_of(path: str) -> str | None:
    """`/v1beta/models/gemini-2.5-flash:streamGenerateContent` -> `gemini-2.5-flash`."""
    route = unquote(urlsplit(path).path)
    _, sep, tail = route.partition("/models/")
    if not sep:
        return None
    name = tail.split(":", 1)[0]
    return name or None


def is_sse(path: str) -> bool:
    """Streamed as SSE: `:streamGenerateContent?alt=sse` (what the Gemini SDKs send)."""
    parts = urlsplit(path)
    return parts.path.endswith(":streamGenerateContent") and parse_qs(parts.query).get("alt") == [
        "sse"
    ]


def validate(body: Any) -> None:
    if not isinstance(body, dict):
        raise BadRequest("generateContent request: the body must be a JSON object")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise BadRequest("generateContent request: 'contents' must be a non-empty list")
    for index, content in enumerate(contents):
        if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
            raise BadRequest(f"generateContent request: contents[{index}] needs a 'parts' list")


def _part_text(part: Any) -> str:
    if not isinstance(part, dict):
        return ""
    if isinstance(part.get("text"), str):
        return str(part["text"])
    response = part.get("functionResponse")
    if isinstance(response, dict):
        return text_of(response.get("response")) or str(response.get("response", ""))
    return ""


def latest_input(body: Mapping[str, Any]) -> str:
    """Text of the trailing user contents (prompts and the function responses sent back)."""
    newest: list[str] = []
    for content in reversed(body.get("contents") or []):
        if not isinstance(content, dict) or content.get("role", "user") != "user":
            break
        newest.append("\n".join(filter(None, map(_part_text, content.get("parts") or []))))
    return "\n".join(reversed(newest))


def error_body(err: ErrorReply) -> Any:
    if err.body is not None:
        return err.body
    status = err.type or _STATUS_NAMES.get(err.status, "INTERNAL" if err.status >= 500 else "")
    return {"error": {"code": err.status, "message": err.message, "status": status}}


def _usage(turn: Turn, body: Mapping[str, Any], output: Any) -> dict[str, int]:
    prompt = turn.input_tokens or estimate_tokens(body.get("contents"))
    candidates = turn.output_tokens or estimate_tokens(output)
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates,
    }
    if turn.thinking:
        usage["thoughtsTokenCount"] = estimate_tokens(turn.thinking)
        usage["totalTokenCount"] += usage["thoughtsTokenCount"]
    return usage


def _call_parts(turn: Turn) -> list[dict[str, Any]]:
    return [
        {
            "functionCall": {
                "id": call.id or new_id("call_"),
                "name": call.name,
                "args": dict(call.input),
            }
        }
        for call in turn.tool_calls
    ]


def _response(parts: list[dict[str, Any]], ident: str) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
        "modelVersion": "scripted-gemini",
        "responseId": ident,
    }


def reply(turn: Turn, body: Mapping[str, Any]) -> dict[str, Any]:
    """One whole `GenerateContentResponse` (`:generateContent`, or a non-SSE stream)."""
    parts: list[dict[str, Any]] = []
    if turn.thinking is not None:
        parts.append({"text": turn.thinking, "thought": True})
    if turn.text is not None:
        parts.append({"text": turn.text})
    parts += _call_parts(turn)
    document = _response(parts, new_id("resp_"))
    document["candidates"][0]["finishReason"] = "STOP"
    document["usageMetadata"] = _usage(turn, body, parts)
    return document


def _frame(document: Any) -> bytes:
    # The Gemini API ends events with CRLF pairs; clients accept either line ending.
    return f"data: {json.dumps(document, separators=(',', ':'))}\r\n\r\n".encode()


def stream(turn: Turn, body: Mapping[str, Any]) -> Iterator[bytes]:
    """SSE frames: thought pieces, text pieces, then the function calls and the finish."""
    ident = new_id("resp_")
    for piece in chunks(turn.thinking or "", turn.chunk_size):
        yield _frame(_response([{"text": piece, "thought": True}], ident))
    for piece in chunks(turn.text or "", turn.chunk_size):
        yield _frame(_response([{"text": piece}], ident))
    last = _response(_call_parts(turn), ident)
    if not last["candidates"][0]["content"]["parts"]:
        last["candidates"][0]["content"]["parts"] = [{"text": ""}]
    last["candidates"][0]["finishReason"] = "STOP"
    last["usageMetadata"] = _usage(turn, body, [turn.thinking, turn.text, _call_parts(turn)])
    yield _frame(last)


def stream_error(message: str) -> bytes:
    """An error object in place of the next chunk."""
    return _frame({"error": {"code": 500, "message": message, "status": "INTERNAL"}})
