"""CodexStreamParser on real captured streams and on synthetic edge lines."""

from __future__ import annotations

import json
from typing import Any

from animus_plugin_protocol.provider import (
    CliEvent,
    ErrorEvent,
    FinalText,
    Metadata,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
)
from animus_provider_codex import CodexStreamParser, error_message_of
from animus_testsupport import fixture_path


def parse_fixture(name: str) -> tuple[CodexStreamParser, list[CliEvent]]:
    parser = CodexStreamParser()
    events: list[CliEvent] = []
    for line in fixture_path(name).read_text(encoding="utf-8").splitlines():
        events += parser.parse_line(line)
    return parser, events


def of(events: list[CliEvent], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def test_text_capture_gives_thread_thinking_answer_and_usage() -> None:
    parser, events = parse_fixture("codex_text.jsonl")
    assert parser.thread_id == "01a1ffc3-4cc0-74f1-82e8-22b933c629e2"
    assert [t.text for t in of(events, Thinking)] == ["A short greeting."]
    assert [f.text for f in of(events, FinalText)] == ["Hello from the scripted model."]
    assert parser.tokens is not None
    assert (parser.tokens.input, parser.tokens.output, parser.tokens.cached) == (7080, 76, 0)
    kinds = [m.metadata["type"] for m in of(events, Metadata)]
    assert kinds == ["codex_thread", "codex_turn_started", "codex_usage"]
    assert not of(events, ErrorEvent)


def test_tool_capture_reports_each_call_once_with_its_result() -> None:
    _, events = parse_fixture("codex_tools.jsonl")
    calls = of(events, ToolCall)
    assert [c.name for c in calls] == ["shell", "file_change", "shell"]
    assert "printf 'one" in calls[0].arguments["command"]
    assert calls[1].arguments["changes"][0]["path"] == "/work/project/notes.txt"
    results = of(events, ToolResult)
    assert [(r.name, r.success) for r in results] == [
        ("shell", True),
        ("file_change", True),
        ("shell", True),
    ]
    assert results[2].output == {"exit_code": 0, "output": "two\n"}
    # order: each call is announced (item.started) before its result
    order = [type(e).__name__ for e in events if isinstance(e, ToolCall | ToolResult)]
    assert order == ["ToolCall", "ToolResult"] * 3
    assert of(events, FinalText)[-1].text == "notes.txt says two."


def test_error_capture_is_one_fatal_error_with_the_api_message() -> None:
    _, events = parse_fixture("codex_error.jsonl")
    errors = of(events, ErrorEvent)
    assert len(errors) == 1  # `error` then `turn.failed` with the same text
    assert not errors[0].recoverable
    assert errors[0].message == "codex: scripted bad request (invalid_request_error)"


def test_transient_stream_error_is_recoverable_when_the_turn_completes() -> None:
    parser = CodexStreamParser()
    assert parser.parse_line('{"type":"error","message":"Reconnecting... 1/5"}') == []
    assert parser.pending_error == "codex: Reconnecting... 1/5"
    events = parser.parse_line('{"type":"turn.completed","usage":{"input_tokens":1}}')
    assert events[0] == ErrorEvent("codex: Reconnecting... 1/5", recoverable=True)
    assert parser.pending_error is None
    # `turn.failed` without a message of its own falls back to the held error
    parser.parse_line('{"type":"error","message":"stream disconnected"}')
    (fatal,) = parser.parse_line('{"type":"turn.failed"}')
    assert fatal == ErrorEvent("codex: stream disconnected", recoverable=False)


def test_failed_command_and_error_items() -> None:
    parser = CodexStreamParser()
    item = {
        "id": "i9",
        "type": "command_execution",
        "command": "false",
        "aggregated_output": "",
        "exit_code": 1,
        "status": "failed",
    }
    events = parser.parse_line(json.dumps({"type": "item.completed", "item": item}))
    assert events == [
        ToolCall("shell", {"command": "false"}),
        ToolResult("shell", {"exit_code": 1, "output": ""}, False),
    ]
    (warning,) = parser.parse_line(
        '{"type":"item.completed","item":{"type":"error","message":"Model metadata missing"}}'
    )
    assert warning == ErrorEvent("codex: Model metadata missing", recoverable=True)


def test_function_calls_mcp_calls_and_messages() -> None:
    parser = CodexStreamParser()
    lines = [
        {"type": "item.added", "item": {"type": "function_call", "call_id": "c1", "name": "f"}},
        {"type": "item.delta", "item": {"type": "function_call", "call_id": "c1",
                                        "arguments_delta": '{"a": '}},
        {"type": "item.delta", "item": {"type": "function_call", "call_id": "c1",
                                        "arguments_delta": "1}"}},
        {"type": "item.completed", "item": {"type": "function_call", "call_id": "c1"}},
        {"type": "item.completed", "item": {"type": "function_call_output", "call_id": "c1",
                                            "output": "done"}},
        {"type": "item.started", "item": {"id": "m1", "type": "mcp_tool_call",
                                          "server": "animus", "tool": "task_get",
                                          "arguments": {"id": "T-1"}}},
        {"type": "item.completed", "item": {"id": "m1", "type": "mcp_tool_call",
                                            "server": "animus", "tool": "task_get",
                                            "status": "failed", "error": {"message": "no"}}},
        {"type": "item.completed", "item": {"type": "message", "content": [
            {"type": "output_text", "text": "Hi "}, {"type": "text", "text": "there"}]}},
    ]  # fmt: skip
    events: list[CliEvent] = []
    for line in lines:
        events += parser.parse_line(json.dumps(line))
    assert events == [
        ToolCall("f", {"a": 1}),
        ToolResult("c1", "done", True),
        ToolCall("task_get", {"id": "T-1"}, "animus"),
        ToolResult("task_get", {"message": "no"}, False),
        FinalText("Hi there"),
    ]


def test_usage_sums_across_turns() -> None:
    parser = CodexStreamParser()
    for usage in (
        {"input_tokens": 10, "output_tokens": 2},
        {"input_tokens": 5, "output_tokens": 1},
    ):
        parser.parse_line(json.dumps({"type": "turn.completed", "usage": usage}))
    assert parser.tokens is not None
    assert (parser.tokens.input, parser.tokens.output) == (15, 3)


def test_truncated_ten_megabyte_unknown_and_plain_lines() -> None:
    parser = CodexStreamParser()
    (bad,) = parser.parse_line('{"type":"item.completed","item":{"type":"agent_mess')
    assert isinstance(bad, ErrorEvent)
    assert bad.recoverable
    assert "truncated or malformed JSON" in bad.message
    huge = "y" * (10 * 1024 * 1024)
    (big,) = parser.parse_line('{"type":"item.completed","item":{"text":"' + huge)
    assert isinstance(big, ErrorEvent)
    assert len(big.message) < 1000
    line = json.dumps({"type": "item.completed", "item": {"type": "agent_message", "text": huge}})
    assert parser.parse_line(line) == [FinalText(huge)]
    assert parser.parse_line("Reading additional input from stdin...") == [
        TextDelta("Reading additional input from stdin...")
    ]
    (unknown,) = parser.parse_line('{"type":"thread.archived"}')
    assert isinstance(unknown, Metadata)
    assert unknown.metadata["type"] == "codex_unhandled"
    (odd_item,) = parser.parse_line('{"type":"item.completed","item":{"type":"future_item"}}')
    assert isinstance(odd_item, Metadata)
    assert parser.parse_line('{"type":"item.completed"}') == []
    assert parser.parse_line("") == []


def test_error_message_of() -> None:
    assert error_message_of("plain") == "plain"
    assert error_message_of({"message": '{"error": {"message": "m"}}'}) == "m"
    assert error_message_of('{"error": {"message": "m", "code": "c"}}') == "m (c)"
    assert error_message_of(None) == "null"
