"""OpencodeStreamParser on real captured streams (tests/fixtures) and synthetic edge lines."""

from __future__ import annotations

import json
from pathlib import Path
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
from animus_provider_opencode import OpencodeStreamParser

FIXTURES = Path(__file__).parent / "fixtures"


def parse_lines(
    lines: list[str], servers: frozenset[str] = frozenset()
) -> tuple[OpencodeStreamParser, list[CliEvent]]:
    parser = OpencodeStreamParser(servers)
    events: list[CliEvent] = []
    for line in lines:
        events += parser.parse_line(line)
    return parser, events


def parse_fixture(name: str) -> tuple[OpencodeStreamParser, list[CliEvent]]:
    return parse_lines((FIXTURES / name).read_text(encoding="utf-8").splitlines())


def of(events: list[CliEvent], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def test_text_capture_gives_session_thinking_answer_and_tokens() -> None:
    parser, events = parse_fixture("opencode_text.jsonl")
    first = json.loads((FIXTURES / "opencode_text.jsonl").read_text().splitlines()[0])
    assert parser.session_id == first["sessionID"]
    assert parser.session_id.startswith("ses_")
    assert [t.text for t in of(events, Thinking)] == ["Greet."]
    assert [d.text for d in of(events, TextDelta)] == ["Hello from the scripted opencode model."]
    assert [f.text for f in of(events, FinalText)] == ["Hello from the scripted opencode model."]
    assert parser.answer == "Hello from the scripted opencode model."
    assert parser.tokens is not None
    assert parser.tokens.input > 0
    assert parser.tokens.output > 0
    assert of(events, ErrorEvent) == []


def test_tool_capture_pairs_calls_and_results_with_exit_codes() -> None:
    parser, events = parse_fixture("opencode_tools.jsonl")
    calls = of(events, ToolCall)
    results = of(events, ToolResult)
    assert [c.name for c in calls] == ["write", "bash", "read"]
    assert calls[0].arguments == {"filePath": "/work/project/o.txt", "content": "from opencode\n"}
    assert [(r.name, r.success) for r in results] == [
        ("write", True),
        ("bash", False),  # completed, but the command exited 3
        ("read", False),
    ]
    assert results[1].output == {"output": "from opencode\n", "exit_code": 3}
    assert "File not found" in results[2].output
    # Text before the tools streamed as a delta; the answer is the text after the last tool.
    assert [f.text for f in of(events, FinalText)] == ["Wrote o.txt."]
    assert parser.answer == "Wrote o.txt."
    steps = [m.metadata for m in of(events, Metadata) if m.metadata["type"] == "opencode_step"]
    assert len(steps) == 4
    assert parser.tokens is not None
    assert parser.tokens.input == sum(s["tokens"]["input"] for s in steps)  # summed per step


def test_error_capture_is_one_non_recoverable_error_naming_the_status() -> None:
    parser, events = parse_fixture("opencode_error.jsonl")
    (error,) = of(events, ErrorEvent)
    assert not error.recoverable
    assert error.message == "APIError: Incorrect API key provided (HTTP 401)"
    assert parser.session_id is not None
    assert parser.tokens is None


def test_running_tool_states_wait_for_the_finished_one() -> None:
    running = {
        "type": "tool_use",
        "sessionID": "ses_1",
        "part": {"type": "tool", "tool": "bash", "state": {"status": "running", "input": {}}},
    }
    _, events = parse_lines([json.dumps(running)])
    assert events == []


def test_mcp_tools_name_their_server() -> None:
    line = {
        "type": "tool_use",
        "part": {
            "tool": "docs_search",
            "state": {"status": "completed", "input": {"q": "x"}, "output": "hit"},
        },
    }
    _, events = parse_lines([json.dumps(line)], frozenset({"docs"}))
    assert of(events, ToolCall) == [ToolCall("docs_search", {"q": "x"}, "docs")]
    assert of(events, ToolResult) == [ToolResult("docs_search", "hit", True)]


def test_older_flat_forms() -> None:
    _, events = parse_lines(
        [
            '{"type":"text","text":"flat text"}',
            '{"type":"tool_use","name":"bash","input":{"command":"ls"}}',
            '{"type":"tool_result","tool_use_id":"t1","content":"a\\nb","is_error":true}',
            '{"content":"the final answer"}',
        ]
    )
    assert of(events, TextDelta) == [TextDelta("flat text")]
    assert of(events, ToolCall) == [ToolCall("bash", {"command": "ls"})]
    assert of(events, ToolResult) == [ToolResult("t1", "a\nb", False)]
    assert of(events, FinalText) == [FinalText("the final answer")]


def test_error_shapes() -> None:
    _, events = parse_lines(
        [
            '{"type":"error","error":{"name":"ProviderModelNotFoundError","data":{}}}',
            '{"type":"error","error":"boom"}',
            '{"type":"error"}',
        ]
    )
    assert [e.message for e in of(events, ErrorEvent)] == [
        "ProviderModelNotFoundError",
        "opencode error: boom",
        "opencode reported an error",
    ]


def test_truncated_json_is_a_recoverable_error_naming_the_problem() -> None:
    _, events = parse_lines(['{"type":"text","part":{"text":"Hel'])
    (error,) = of(events, ErrorEvent)
    assert error.recoverable
    assert "truncated or malformed JSON" in error.message


def test_ten_megabyte_line_is_handled_without_crashing() -> None:
    big = "x" * (10 * 1024 * 1024)
    _, events = parse_lines([json.dumps({"type": "text", "part": {"text": big}})])
    assert [len(d.text) for d in of(events, TextDelta)] == [len(big)]
    _, events = parse_lines(['{"type":"text","part":{"text":"' + big])
    (error,) = of(events, ErrorEvent)
    assert len(error.message) < 1000


def test_non_json_and_unknown_lines() -> None:
    _, events = parse_lines(["Performing one time database migration...", "[1]", '{"type":"new"}'])
    assert [d.text for d in of(events, TextDelta)] == [
        "Performing one time database migration...",
        "[1]",
    ]
    assert of(events, Metadata)[0].metadata["type"] == "opencode_unhandled"
