"""The Gemini API dialect: `:generateContent`, `:streamGenerateContent` (SSE and JSON array)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from animus_testsupport import ScriptedModelServer, ScriptError
from animus_testsupport.httpcall import call, parse_sse

STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"


def gemini_body(text: str = "hi", *, history: Any = None) -> dict[str, Any]:
    contents = [*(history or []), {"role": "user", "parts": [{"text": text}]}]
    return {"contents": contents, "generationConfig": {"temperature": 0}}


def sse_documents(body: bytes) -> list[Any]:
    return [data for _, data in parse_sse(body.replace(b"\r\n", b"\n"))]


def test_stream_sends_thought_text_and_function_call_pieces() -> None:
    turn = {
        "thinking": "ponder",
        "text": "Hello, gemini!",
        "tool_calls": [{"name": "write_file", "input": {"file_path": "a.txt"}, "id": "c1"}],
        "chunk_size": 5,
    }
    with ScriptedModelServer([turn]) as server:
        reply = call(server.base_url, STREAM, gemini_body())
        (record,) = server.model_requests
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/event-stream"
    assert b"\r\n\r\n" in reply.body  # the Gemini API's event separator
    docs = sse_documents(reply.body)
    parts = [p for d in docs for p in d["candidates"][0]["content"]["parts"]]
    thought = "".join(p["text"] for p in parts if p.get("thought"))
    text = "".join(p.get("text", "") for p in parts if not p.get("thought"))
    assert (thought, text) == ("ponder", "Hello, gemini!")
    calls = [p["functionCall"] for p in parts if "functionCall" in p]
    assert calls == [{"id": "c1", "name": "write_file", "args": {"file_path": "a.txt"}}]
    last = docs[-1]
    assert last["candidates"][0]["finishReason"] == "STOP"
    usage = last["usageMetadata"]
    assert usage["totalTokenCount"] == (
        usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    )
    assert all("finishReason" not in d["candidates"][0] for d in docs[:-1])
    assert (record.api, record.model, record.outcome) == ("gemini", "gemini-2.5-flash", "turn")


def test_generate_content_is_one_document_and_stream_without_sse_is_an_array() -> None:
    script = [{"text": "one", "usage": {"input_tokens": 7, "output_tokens": 2}}, "two"]
    with ScriptedModelServer(script) as server:
        whole = call(server.base_url, GENERATE, gemini_body())
        array = call(server.base_url, "/v1beta/models/m:streamGenerateContent", gemini_body())
    document = whole.json()
    assert document["candidates"][0]["content"] == {"role": "model", "parts": [{"text": "one"}]}
    assert document["usageMetadata"] == {
        "promptTokenCount": 7,
        "candidatesTokenCount": 2,
        "totalTokenCount": 9,
    }
    listed = array.json()
    assert isinstance(listed, list)
    assert listed[0]["candidates"][0]["content"]["parts"] == [{"text": "two"}]


def test_match_by_model_in_the_path_and_by_function_response() -> None:
    script = [
        {"match": {"model": "gemini-pro-x", "api": "gemini"}, "text": "pro"},
        {"match": {"contains": "file written"}, "text": "after tool"},
    ]
    tool_history = [
        {"role": "user", "parts": [{"text": "make a file"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "write_file", "args": {}}}]},
    ]
    function_response = {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "write_file", "response": {"output": "file written"}}}
        ],
    }
    with ScriptedModelServer(script) as server:
        body = {"contents": [*tool_history, function_response]}
        first = call(server.base_url, GENERATE, body)
        second = call(server.base_url, "/v1beta/models/gemini-pro-x:generateContent", gemini_body())
    assert first.json()["candidates"][0]["content"]["parts"][0]["text"] == "after tool"
    assert second.json()["candidates"][0]["content"]["parts"][0]["text"] == "pro"


@pytest.mark.parametrize(
    ("status", "name"),
    [(400, "INVALID_ARGUMENT"), (404, "NOT_FOUND"), (429, "RESOURCE_EXHAUSTED"), (500, "INTERNAL")],
)
def test_error_turn_uses_the_google_error_shape(status: int, name: str) -> None:
    with ScriptedModelServer([{"error": {"status": status, "message": "nope"}}]) as server:
        reply = call(server.base_url, STREAM, gemini_body())
    assert reply.status == status
    assert reply.json() == {"error": {"code": status, "message": "nope", "status": name}}


def test_bad_bodies_and_count_tokens_never_consume_a_turn() -> None:
    with ScriptedModelServer(["kept"]) as server:
        missing = call(server.base_url, GENERATE, {"contents": []})
        broken = call(server.base_url, GENERATE, {"contents": [{"role": "user"}]})
        counted = call(
            server.base_url, "/v1beta/models/gemini-2.5-flash:countTokens", gemini_body()
        )
        listed = call(server.base_url, "/v1beta/models", method="GET")
        unknown = call(server.base_url, "/v1beta/models/m:embedContent", gemini_body())
        assert server.remaining_turns == 1
    assert missing.status == 400
    assert "'contents' must be a non-empty list" in missing.json()["error"]["message"]
    assert broken.status == 400
    assert "contents[0] needs a 'parts' list" in broken.json()["error"]["message"]
    assert counted.json()["totalTokens"] > 0
    assert listed.status == 200
    assert unknown.status == 404


def test_stream_error_and_exhausted_script() -> None:
    turn = {"text": "abcdefgh", "chunk_size": 2, "cut_after": 2, "stream_error": "overloaded"}
    with ScriptedModelServer([turn]) as server:
        reply = call(server.base_url, STREAM, gemini_body())
        exhausted = call(server.base_url, STREAM, gemini_body())
    docs = sse_documents(reply.body)
    assert len(docs) == 3
    assert docs[-1]["error"]["message"] == "overloaded"
    assert exhausted.status == 400
    assert "script exhausted" in json.dumps(exhausted.json())


def test_api_name_gemini_is_accepted_in_matches_and_unknown_names_are_not() -> None:
    ScriptedModelServer([{"match": {"api": "gemini"}, "text": "x"}])
    with pytest.raises(ScriptError, match="api"):
        ScriptedModelServer([{"match": {"api": "palm"}, "text": "x"}])
