from __future__ import annotations

import json
from typing import Any

from animus_testsupport import ScriptedModelServer
from animus_testsupport.httpcall import call


def responses_body(items: Any = "hi", *, stream: bool = True) -> dict[str, Any]:
    return {"model": "gpt-5.5", "input": items, "stream": stream, "tools": []}


def chat_body(messages: Any = None, *, stream: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": messages or [{"role": "user", "content": "hi"}],
        "stream": stream,
        **extra,
    }


# -- Responses API ---------------------------------------------------------------------------


def test_responses_stream_event_sequence() -> None:
    turn = {
        "thinking": "consider",
        "text": "Hello, codex!",
        "tool_calls": [{"name": "exec_command", "input": {"cmd": "ls"}, "id": "call_1"}],
        "chunk_size": 4,
    }
    with ScriptedModelServer([turn]) as server:
        reply = call(server.openai_base_url, "/v1/responses", responses_body())
    assert reply.status == 200
    events = reply.events()
    kinds = [data["type"] for _, data in events]
    assert all(name == data["type"] for name, data in events)
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert kinds.count("response.output_item.added") == 3
    assert kinds.count("response.output_item.done") == 3
    sequence = [data["sequence_number"] for _, data in events]
    assert sequence == sorted(sequence)
    text = "".join(d["delta"] for _, d in events if d["type"] == "response.output_text.delta")
    summary = "".join(
        d["delta"] for _, d in events if d["type"] == "response.reasoning_summary_text.delta"
    )
    assert (text, summary) == ("Hello, codex!", "consider")
    done = [d["item"] for _, d in events if d["type"] == "response.output_item.done"]
    assert [i["type"] for i in done] == ["reasoning", "message", "function_call"]
    call_item = done[2]
    assert (call_item["name"], call_item["call_id"]) == ("exec_command", "call_1")
    assert json.loads(call_item["arguments"]) == {"cmd": "ls"}
    completed = events[-1][1]["response"]
    assert completed["status"] == "completed"
    assert completed["output"] == done
    usage = completed["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_responses_custom_tool_call_and_non_streaming_reply() -> None:
    patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"
    turn = {"tool_calls": [{"name": "apply_patch", "custom": True, "raw_input": patch}]}
    with ScriptedModelServer([turn]) as server:
        reply = call(server.base_url, "/v1/responses", responses_body(stream=False))
    document = reply.json()
    assert document["object"] == "response"
    (item,) = document["output"]
    assert (item["type"], item["name"], item["input"]) == ("custom_tool_call", "apply_patch", patch)


def test_responses_match_on_the_function_output_sent_back() -> None:
    script = [
        {"match": {"contains": "BUILD FAILED", "api": "responses"}, "text": "fixing"},
        {"match": {"contains": "BUILD OK", "api": "responses"}, "text": "shipping"},
    ]
    items = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "build"}]},
        {"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "BUILD OK"},
    ]
    with ScriptedModelServer(script) as server:
        reply = call(server.base_url, "/responses", responses_body(items, stream=False))
    assert reply.json()["output"][0]["content"][0]["text"] == "shipping"
    assert server.requests[0].turn == 1


def test_responses_error_and_bad_request_use_the_openai_error_shape() -> None:
    with ScriptedModelServer([{"error": {"status": 429, "message": "slow down"}}]) as server:
        limited = call(server.base_url, "/v1/responses", responses_body())
        bad = call(server.base_url, "/v1/responses", {"model": "gpt-5.5"})
    assert limited.status == 429
    assert limited.json()["error"]["message"] == "slow down"
    assert limited.json()["error"]["type"] == "invalid_request_error"
    assert bad.status == 400
    assert "'input'" in bad.json()["error"]["message"]


# -- chat completions ------------------------------------------------------------------------


def test_chat_completion_with_tool_calls() -> None:
    turn = {"text": "calling", "tool_calls": [{"name": "read_file", "input": {"path": "a"}}]}
    with ScriptedModelServer([turn]) as server:
        reply = call(server.base_url, "/v1/chat/completions", chat_body())
    document = reply.json()
    assert document["object"] == "chat.completion"
    (choice,) = document["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "calling"
    (tool_call,) = choice["message"]["tool_calls"]
    assert tool_call["function"]["name"] == "read_file"
    assert json.loads(tool_call["function"]["arguments"]) == {"path": "a"}
    assert document["usage"]["total_tokens"] > 0


def test_chat_stream_reassembles_text_and_tool_calls_and_ends_with_done() -> None:
    turn = {
        "text": "streamed text here",
        "tool_calls": [
            {"name": "shell", "input": {"command": "make test"}, "id": "call_a"},
            {"name": "write_file", "input": {"path": "b", "content": "c"}, "id": "call_b"},
        ],
        "chunk_size": 3,
    }
    body = chat_body(stream=True, stream_options={"include_usage": True})
    with ScriptedModelServer([turn]) as server:
        reply = call(server.base_url, "/chat/completions", body)
    events = [data for _, data in reply.events()]
    assert events[-1] == "[DONE]"
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] > 0
    chunks = events[:-2]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("content", "") for d in deltas) == "streamed text here"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    calls: dict[int, dict[str, str]] = {}
    for delta in deltas:
        for part in delta.get("tool_calls", []):
            slot = calls.setdefault(part["index"], {"id": "", "name": "", "arguments": ""})
            slot["id"] = part.get("id", slot["id"])
            slot["name"] += part.get("function", {}).get("name", "")
            slot["arguments"] += part.get("function", {}).get("arguments", "")
    assert [(c["id"], c["name"]) for c in calls.values()] == [
        ("call_a", "shell"),
        ("call_b", "write_file"),
    ]
    assert json.loads(calls[1]["arguments"]) == {"path": "b", "content": "c"}


def test_chat_matching_on_tool_messages_and_errors() -> None:
    script = [
        {"match": {"contains": "tool says 7", "api": "chat"}, "text": "seven"},
        {"error": {"status": 503, "message": "down for maintenance"}},
    ]
    messages = [
        {"role": "user", "content": "compute"},
        {"role": "assistant", "tool_calls": [{"id": "x", "type": "function"}]},
        {"role": "tool", "tool_call_id": "x", "content": "tool says 7"},
    ]
    with ScriptedModelServer(script) as server:
        answered = call(server.base_url, "/v1/chat/completions", chat_body(messages))
        failed = call(server.base_url, "/v1/chat/completions", chat_body())
        bad = call(
            server.base_url, "/v1/chat/completions", chat_body(messages=[]) | {"messages": []}
        )
    assert answered.json()["choices"][0]["message"]["content"] == "seven"
    assert failed.status == 503
    assert failed.json()["error"] == {
        "message": "down for maintenance",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    assert bad.status == 400
    assert "'messages' must be a non-empty list" in bad.json()["error"]["message"]


def test_responses_stream_error_is_response_failed() -> None:
    script = [{"text": "abc", "cut_after": 2, "stream_error": "upstream died"}]
    with ScriptedModelServer(script) as server:
        reply = call(server.base_url, "/v1/responses", responses_body())
    kinds = [data["type"] for _, data in reply.events()]
    assert kinds == ["response.created", "response.in_progress", "response.failed"]
    failed = reply.events()[-1][1]["response"]
    assert failed["status"] == "failed"
    assert failed["error"]["message"] == "upstream died"


def test_chat_stream_error_chunk() -> None:
    script = [{"text": "abc", "chunk_size": 1, "cut_after": 2, "stream_error": "overloaded"}]
    with ScriptedModelServer(script) as server:
        reply = call(server.base_url, "/v1/chat/completions", chat_body(stream=True))
    events = [data for _, data in reply.events()]
    assert len(events) == 3
    assert events[-1]["error"]["message"] == "overloaded"
