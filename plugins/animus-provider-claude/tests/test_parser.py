"""ClaudeStreamParser on real captured streams and on synthetic edge lines."""

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
from animus_provider_claude import ClaudeStreamParser, mcp_server_of
from animus_testsupport import fixture_path


def parse_fixture(name: str) -> tuple[ClaudeStreamParser, list[CliEvent]]:
    parser = ClaudeStreamParser()
    events: list[CliEvent] = []
    for line in fixture_path(name).read_text(encoding="utf-8").splitlines():
        events += parser.parse_line(line)
    return parser, events


def of(events: list[CliEvent], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def test_text_capture_gives_session_thinking_answer_usage_and_cost() -> None:
    parser, events = parse_fixture("claude_text.jsonl")
    init = json.loads(fixture_path("claude_text.jsonl").read_text().splitlines()[0])
    assert parser.session_id == init["session_id"]
    assert parser.model == "claude-sonnet-4-6"
    assert [t.text for t in of(events, Thinking)] == ["A short greeting."]
    assert [f.text for f in of(events, FinalText)] == ["Hello from the scripted model."] * 2
    assert parser.tokens is not None
    assert (parser.tokens.input, parser.tokens.output) == (2721, 37)
    assert parser.cost_usd == 0.008718
    usage = [m.metadata for m in of(events, Metadata) if m.metadata.get("type") == "claude_usage"]
    assert usage[0]["cost_usd"] == 0.008718
    assert usage[0]["tokens_used"]["input"] == 2721
    assert usage[0]["session_id"] == parser.session_id
    # system/init is kept whole (the resume id and model); noisy subtypes are not
    system = [m.metadata for m in of(events, Metadata) if m.metadata.get("type") == "system"]
    assert [s["subtype"] for s in system] == ["init"]
    assert not of(events, ErrorEvent)


def test_tool_capture_names_each_result_after_its_call() -> None:
    _, events = parse_fixture("claude_tools.jsonl")
    calls = of(events, ToolCall)
    assert [c.name for c in calls] == ["Write", "Edit", "Bash"]
    assert calls[0].arguments == {"file_path": "/work/project/notes.txt", "content": "one\n"}
    assert calls[2].arguments == {"command": "cat notes.txt"}
    assert all(c.server is None for c in calls)
    results = of(events, ToolResult)
    assert [r.name for r in results] == ["Write", "Edit", "Bash"]
    assert all(r.success for r in results)
    assert results[2].output == "two"
    assert of(events, FinalText)[-1].text == "notes.txt now says two."


def test_error_capture_is_one_non_recoverable_error_naming_the_api_failure() -> None:
    parser, events = parse_fixture("claude_error.jsonl")
    errors = of(events, ErrorEvent)
    assert len(errors) == 1
    assert not errors[0].recoverable
    assert "API Error: 500 scripted upstream failure" in errors[0].message
    # the synthetic assistant echo of the failure is not reported as the answer
    assert not of(events, FinalText)
    assert parser.session_id is not None


def test_partial_capture_streams_text_deltas_without_duplicating_thinking() -> None:
    _, events = parse_fixture("claude_partial.jsonl")
    deltas = "".join(d.text for d in of(events, TextDelta))
    assert deltas == "Hello from the scripted model."
    assert [t.text for t in of(events, Thinking)] == ["A short greeting."]
    assert of(events, FinalText)[-1].text == "Hello from the scripted model."


def test_legacy_top_level_content_block_lines() -> None:
    parser = ClaudeStreamParser()
    events = [
        *parser.parse_line(
            json.dumps(
                {
                    "type": "content_block_start",
                    "content_block": {
                        "type": "tool_use",
                        "id": "t1",
                        "name": "mcp__animus__task_get",
                        "input": {"id": "T-1"},
                    },
                }
            )
        ),
        *parser.parse_line(
            '{"type":"content_block_delta","delta":{"type":"text_delta","text":"hi"}}'
        ),
        *parser.parse_line(
            '{"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"hm"}}'
        ),
        *parser.parse_line(
            json.dumps(
                {
                    "type": "user",
                    "message": {
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": "t1",
                                "content": [{"type": "text", "text": "ok"}],
                                "is_error": True,
                            }
                        ]
                    },
                }
            )
        ),
    ]
    assert events == [
        ToolCall("mcp__animus__task_get", {"id": "T-1"}, "animus"),
        TextDelta("hi"),
        Thinking("hm"),
        ToolResult("mcp__animus__task_get", "ok", False),
    ]


def test_truncated_json_is_a_recoverable_error_naming_the_problem() -> None:
    parser = ClaudeStreamParser()
    (event,) = parser.parse_line('{"type":"assistant","message":{"content":[{"type":"te')
    assert isinstance(event, ErrorEvent)
    assert event.recoverable
    assert "truncated or malformed JSON" in event.message
    assert '{"type":"assistant"' in event.message


def test_ten_megabyte_line_is_handled_without_crashing() -> None:
    parser = ClaudeStreamParser()
    huge = "x" * (10 * 1024 * 1024)
    (event,) = parser.parse_line('{"type":"assistant","message":{"content":"' + huge)
    assert isinstance(event, ErrorEvent)
    assert len(event.message) < 1000  # an excerpt, not the whole line
    assert "10485" in event.message  # the line's length is named
    # a complete 10 MB text block parses fine
    line = json.dumps(
        {"type": "assistant", "message": {"content": [{"type": "text", "text": huge}]}}
    )
    assert parser.parse_line(line) == [FinalText(huge)]


def test_non_json_unknown_and_odd_lines() -> None:
    parser = ClaudeStreamParser()
    assert parser.parse_line("plain words") == [TextDelta("plain words")]
    assert parser.parse_line("   ") == []
    assert parser.parse_line("[1, 2]") == [TextDelta("[1, 2]")]
    (unknown,) = parser.parse_line('{"type":"brand_new_thing","x":1}')
    assert isinstance(unknown, Metadata)
    assert unknown.metadata["type"] == "claude_unhandled"
    assert parser.parse_line('{"no_type": true}')[0] == Metadata(
        {"type": "claude_unhandled", "line": {"no_type": True}}
    )
    assert parser.parse_line('{"type":"assistant","message":"junk"}') == []
    assert parser.parse_line('{"type":"user","message":{"content":"a prompt"}}') == []
    (rate,) = parser.parse_line('{"type":"rate_limit_event","rate_limit_info":{"status":"ok"}}')
    assert isinstance(rate, Metadata)


def test_result_error_without_text_and_permission_denials() -> None:
    parser = ClaudeStreamParser()
    events = parser.parse_line(
        json.dumps(
            {
                "type": "result",
                "subtype": "error_max_turns",
                "is_error": True,
                "permission_denials": [{"tool_name": "Write"}, {"tool_name": "Bash"}],
            }
        )
    )
    errors = of(events, ErrorEvent)
    assert errors[0].recoverable
    assert "Bash, Write" in errors[0].message
    assert not errors[1].recoverable
    assert "error_max_turns" in errors[1].message


def test_mcp_server_of() -> None:
    assert mcp_server_of("mcp__animus__queue_list") == "animus"
    assert mcp_server_of("Write") is None
    assert mcp_server_of("mcp__") is None
