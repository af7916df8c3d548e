from __future__ import annotations

import json
import threading

from animus_testsupport import ScriptedModelServer
from animus_testsupport.httpcall import anthropic_body, call


def test_non_streaming_message_with_thinking_text_and_tool_use() -> None:
    turn = {
        "thinking": "plan",
        "text": "Writing it.",
        "tool_calls": [{"name": "Write", "input": {"file_path": "/x", "content": "y"}}],
    }
    with ScriptedModelServer([turn]) as server:
        reply = call(server.base_url, "/v1/messages", anthropic_body())
    assert reply.status == 200
    message = reply.json()
    assert [b["type"] for b in message["content"]] == ["thinking", "text", "tool_use"]
    assert message["content"][2]["input"] == {"file_path": "/x", "content": "y"}
    assert message["content"][2]["id"].startswith("toolu_")
    assert message["stop_reason"] == "tool_use"
    assert message["model"] == "claude-sonnet-4-6"
    assert set(message["usage"]) >= {"input_tokens", "output_tokens"}


def test_streaming_event_sequence_reassembles_the_turn() -> None:
    turn = {
        "thinking": "think hard",
        "text": "Hello there, streaming world!",
        "tool_calls": [{"name": "Bash", "input": {"command": "echo hi"}, "id": "toolu_fixed"}],
        "chunk_size": 5,
    }
    with ScriptedModelServer([turn]) as server:
        reply = call(server.base_url, "/v1/messages?beta=true", anthropic_body(stream=True))
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/event-stream"
    events = reply.events()
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in events)
    assert names.count("content_block_start") == 3
    assert names.count("content_block_stop") == 3
    deltas = [d["delta"] for n, d in events if n == "content_block_delta"]
    thinking = "".join(d["thinking"] for d in deltas if d["type"] == "thinking_delta")
    text = "".join(d["text"] for d in deltas if d["type"] == "text_delta")
    arguments = "".join(d["partial_json"] for d in deltas if d["type"] == "input_json_delta")
    assert thinking == "think hard"
    assert text == "Hello there, streaming world!"
    assert json.loads(arguments) == {"command": "echo hi"}
    assert any(d["type"] == "signature_delta" for d in deltas)
    assert sum(1 for d in deltas if d["type"] == "text_delta") == 6  # 29 chars / 5
    starts = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert starts[2] == {"type": "tool_use", "id": "toolu_fixed", "name": "Bash", "input": {}}
    message_delta = events[-2][1]
    assert message_delta["delta"]["stop_reason"] == "tool_use"
    assert message_delta["usage"]["output_tokens"] > 0


def test_error_turn_answers_with_an_anthropic_error_document() -> None:
    with ScriptedModelServer([{"error": {"status": 529, "message": "busy"}}]) as server:
        reply = call(server.base_url, "/v1/messages", anthropic_body(stream=True))
    assert reply.status == 529
    assert reply.json() == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "busy"},
    }
    assert reply.headers["x-should-retry"] == "false"
    (record,) = server.requests
    assert (record.status, record.turn, record.outcome) == (529, 0, "turn")


def test_error_turn_with_a_verbatim_body() -> None:
    script = [{"error": {"status": 502, "body": "<html>bad gateway</html>"}}]
    with ScriptedModelServer(script) as server:
        reply = call(server.base_url, "/v1/messages", anthropic_body())
    assert (reply.status, reply.body) == (502, b"<html>bad gateway</html>")


def test_exhausted_script_answers_a_clear_error_and_records_it() -> None:
    with ScriptedModelServer(["only one"]) as server:
        first = call(server.base_url, "/v1/messages", anthropic_body())
        second = call(server.base_url, "/v1/messages", anthropic_body())
    assert first.status == 200
    assert server.remaining_turns == 0
    assert second.status == 400
    assert "script exhausted" in second.json()["error"]["message"]
    assert [r.outcome for r in server.requests] == ["turn", "exhausted"]


def test_default_turn_answers_unmatched_requests_without_being_used_up() -> None:
    script = {
        "turns": [{"match": {"contains": "review"}, "text": "LGTM"}],
        "default": {"text": "background"},
    }
    with ScriptedModelServer(script) as server:
        texts = [
            call(server.base_url, "/v1/messages", anthropic_body(p)).json()["content"][0]["text"]
            for p in ("title please", "please review", "quota", "review again")
        ]
    assert texts == ["background", "LGTM", "background", "background"]
    assert [r.turn for r in server.requests] == [None, 0, None, None]
    assert server.remaining_turns == 0


def test_matching_by_model_and_repeated_turns() -> None:
    script = [
        {"match": {"model": "claude-haiku-4-5"}, "text": "small", "times": 0},
        {"text": "big", "times": 2},
    ]
    with ScriptedModelServer(script) as server:

        def ask(model: str) -> str:
            body = anthropic_body(model=model)
            reply = call(server.base_url, "/v1/messages", body)
            return str(reply.json()["content"][0]["text"]) if reply.status == 200 else "error"

        answers = [ask(m) for m in ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-sonnet-4-6")]
        answers += [ask("claude-haiku-4-5"), ask("claude-sonnet-4-6")]
    assert answers == ["big", "small", "big", "small", "error"]


def test_match_on_the_tool_result_sent_back() -> None:
    script = [
        {"match": {"contains": "exit code 3"}, "text": "the command failed"},
        {"match": {"contains": "exit code 0"}, "text": "the command worked"},
    ]
    body = anthropic_body()
    body["messages"] = [
        {"role": "user", "content": "run it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash"}]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "content": [{"type": "text", "text": "exit code 0"}],
                }
            ],
        },
    ]
    with ScriptedModelServer(script) as server:
        reply = call(server.base_url, "/v1/messages", body)
    assert reply.json()["content"][0]["text"] == "the command worked"
    assert server.remaining_turns == 1


def test_concurrent_requests_each_get_their_matching_turn() -> None:
    names = [f"worker-{i}" for i in range(6)]
    script = [{"match": {"contains": n}, "text": f"hello {n}", "chunk_delay": 0.01} for n in names]
    answers: dict[str, str] = {}
    with ScriptedModelServer(script) as server:

        def ask(name: str) -> None:
            reply = call(server.base_url, "/v1/messages", anthropic_body(name, stream=True))
            answers[name] = "".join(
                d["delta"]["text"]
                for n, d in reply.events()
                if n == "content_block_delta" and d["delta"]["type"] == "text_delta"
            )

        threads = [threading.Thread(target=ask, args=(n,)) for n in reversed(names)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert answers == {n: f"hello {n}" for n in names}
    assert server.remaining_turns == 0


def test_slow_stream_is_delivered_incrementally_and_survives_a_disconnect() -> None:
    import http.client
    from urllib.parse import urlsplit

    script = [{"text": "x" * 400, "chunk_size": 1, "chunk_delay": 0.05}, "after"]
    with ScriptedModelServer(script) as server:
        url = urlsplit(server.base_url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        conn.request("POST", "/v1/messages", body=json.dumps(anthropic_body(stream=True)))
        resp = conn.getresponse()
        first = resp.readline()  # arrives long before the 20 s stream could finish
        conn.close()  # hang up mid-stream
        follow_up = call(server.base_url, "/v1/messages", anthropic_body())
    assert first == b"event: message_start\n"
    assert follow_up.json()["content"][0]["text"] == "after"


def test_bad_requests_get_400_naming_the_problem() -> None:
    with ScriptedModelServer(["unused"]) as server:
        not_json = call(server.base_url, "/v1/messages", raw=b"{not json")
        no_messages = call(server.base_url, "/v1/messages", {"model": "m", "max_tokens": 5})
        no_model = call(server.base_url, "/v1/messages", {"messages": [{"role": "user"}]})
        unknown = call(server.base_url, "/v2/everything", {"a": 1})
    assert not_json.status == 400
    assert "not valid JSON" in not_json.json()["error"]["message"]
    assert no_messages.status == 400
    assert "'messages' must be a non-empty list" in no_messages.json()["error"]["message"]
    assert "'model'" in no_model.json()["error"]["message"]
    assert unknown.status == 404
    assert "no such endpoint: POST /v2/everything" in unknown.json()["error"]["message"]
    assert [r.outcome for r in server.requests] == [
        "bad_request",
        "bad_request",
        "bad_request",
        "not_found",
    ]
    assert server.remaining_turns == 1  # bad requests never consume a turn


def test_auxiliary_endpoints_and_header_redaction() -> None:
    with ScriptedModelServer([]) as server:
        tokens = call(
            server.base_url,
            "/v1/messages/count_tokens",
            anthropic_body("count me"),
            headers={"x-api-key": "sk-secret", "anthropic-version": "2023-06-01"},
        )
        models = call(server.base_url, "/v1/models", method="GET")
        hello = call(server.base_url, "/api/hello", method="HEAD")
    assert tokens.json()["input_tokens"] > 0
    assert "claude-sonnet-4-6" in [m["id"] for m in models.json()["data"]]
    assert hello.status == 200
    record = server.requests[0]
    assert record.headers["x-api-key"] == "<redacted>"
    assert record.headers["anthropic-version"] == "2023-06-01"
    assert "sk-secret" not in json.dumps([r.to_json() for r in server.requests])


def test_stream_cut_with_an_in_stream_error_event() -> None:
    script = [{"text": "partial answer", "chunk_size": 4, "cut_after": 4, "stream_error": "boom"}]
    with ScriptedModelServer(script) as server:
        reply = call(server.base_url, "/v1/messages", anthropic_body(stream=True))
    events = reply.events()
    assert [name for name, _ in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "error",
    ]
    assert events[-1][1] == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "boom"},
    }
    assert server.requests[0].detail == "stream error after 4 frame(s)"


def test_stream_dropped_mid_way_leaves_the_client_with_a_truncated_body() -> None:
    import http.client
    from urllib.parse import urlsplit

    import pytest

    script = [{"text": "never finished", "cut_after": 3}, "next"]
    with ScriptedModelServer(script) as server:
        url = urlsplit(server.base_url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        conn.request("POST", "/v1/messages", body=json.dumps(anthropic_body(stream=True)))
        resp = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead) as caught:
            resp.read()
        conn.close()
        after = call(server.base_url, "/v1/messages", anthropic_body())
    assert b"message_start" in caught.value.partial
    assert after.json()["content"][0]["text"] == "next"
