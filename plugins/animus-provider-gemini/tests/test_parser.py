"""GeminiStreamParser on real captured streams (tests/fixtures) and on synthetic edge lines."""

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
    ToolCall,
    ToolResult,
)
from animus_provider_gemini import GeminiStreamParser, tokens_from_stats

FIXTURES = Path(__file__).parent / "fixtures"


def parse_lines(lines: list[str]) -> tuple[GeminiStreamParser, list[CliEvent]]:
    parser = GeminiStreamParser()
    events: list[CliEvent] = []
    for line in lines:
        events += parser.parse_line(line)
    events += parser.finish()
    return parser, events


def parse_fixture(name: str) -> tuple[GeminiStreamParser, list[CliEvent]]:
    return parse_lines((FIXTURES / name).read_text(encoding="utf-8").splitlines())


def of(events: list[CliEvent], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def test_text_capture_streams_deltas_then_the_answer_with_session_and_tokens() -> None:
    parser, events = parse_fixture("gemini_text.jsonl")
    init = json.loads((FIXTURES / "gemini_text.jsonl").read_text().splitlines()[0])
    assert parser.session_id == init["session_id"]
    assert parser.model == "gemini-2.5-flash"
    deltas = [d.text for d in of(events, TextDelta)]
    assert len(deltas) > 1  # really streamed in pieces
    assert "".join(deltas) == "Hello from the scripted gemini model."
    assert [f.text for f in of(events, FinalText)] == ["Hello from the scripted gemini model."]
    assert parser.tokens is not None
    assert parser.tokens.input > 0
    assert parser.tokens.output > 0
    kinds = [m.metadata["type"] for m in of(events, Metadata)]
    assert kinds == ["gemini_session", "gemini_stats"]
    assert of(events, ErrorEvent) == []


def test_tool_capture_names_results_after_their_calls_and_answers_after_the_last_tool() -> None:
    parser, events = parse_fixture("gemini_tools.jsonl")
    calls = of(events, ToolCall)
    results = of(events, ToolResult)
    assert [c.name for c in calls] == ["write_file", "read_file"]
    assert calls[0].arguments == {"file_path": "/work/project/g.txt", "content": "from gemini\n"}
    assert [(r.name, r.success) for r in results] == [("write_file", True), ("read_file", False)]
    assert "Path not in workspace" in str(results[1].output)
    # The text before the tool calls streamed, but the answer is what came after them.
    assert [f.text for f in of(events, FinalText)] == ["Wrote g.txt."]
    assert parser.tokens is not None
    assert parser.tokens.input > 0


def test_error_capture_is_one_non_recoverable_error_naming_the_api_failure() -> None:
    parser, events = parse_fixture("gemini_error.jsonl")
    errors = of(events, ErrorEvent)
    assert len(errors) == 1
    assert not errors[0].recoverable
    assert "models/gemini-nope is not found" in errors[0].message
    assert of(events, FinalText) == []
    assert parser.session_id is not None


def test_json_document_capture_is_reassembled_from_its_pretty_printed_lines() -> None:
    text = (FIXTURES / "gemini_document.json").read_text()
    assert len(text.splitlines()) > 10  # really multi-line
    parser, events = parse_fixture("gemini_document.json")
    assert parser.session_id == json.loads(text)["session_id"]
    assert [f.text for f in of(events, FinalText)] == ["Hello as one document."]
    assert parser.tokens is not None
    assert parser.tokens.input > 0
    assert of(events, ErrorEvent) == []


def test_document_error_and_alternative_answer_fields() -> None:
    _, events = parse_lines(
        [json.dumps({"session_id": "s1", "error": {"type": "x", "message": "quota"}, "stats": {}})]
    )
    assert [e.message for e in of(events, ErrorEvent)] == ["quota"]
    for document, expected in [
        ({"session_id": "s", "response": "r", "stats": {}}, "r"),
        ({"session_id": "s", "stats": {}, "content": {"text": "c"}}, "c"),
        ({"session_id": "s", "stats": {}, "content": {"parts": [{"text": "p"}]}}, "p"),
        (
            {
                "session_id": "s",
                "stats": {},
                "candidates": [{"content": {"parts": [{"text": "k"}]}}],
            },
            "k",
        ),
    ]:
        _, events = parse_lines(json.dumps(document, indent=2).splitlines())
        assert [f.text for f in of(events, FinalText)] == [expected], document


def test_cut_off_document_is_reported_at_the_end() -> None:
    _, events = parse_lines(["{", '  "session_id": "abc",', '  "response": "half'])
    errors = of(events, ErrorEvent)
    assert len(errors) == 1
    assert errors[0].recoverable
    assert "cut off" in errors[0].message


def test_legacy_streaming_lines() -> None:
    _, events = parse_lines(
        [
            '{"type":"partialResult","partialResult":{"text":"part"}}',
            '{"type":"functionCall","functionCall":{"name":"run_shell_command","args":{"c":1}}}',
            '{"type":"functionResponse","functionResponse":{"name":"run_shell_command",'
            '"response":{"output":"ok"}}}',
            '{"text":"bare"}',
        ]
    )
    assert [d.text for d in of(events, TextDelta)] == ["part", "bare"]
    assert of(events, ToolCall) == [ToolCall("run_shell_command", {"c": 1})]
    assert of(events, ToolResult) == [ToolResult("run_shell_command", {"output": "ok"}, True)]


def test_truncated_json_is_a_recoverable_error_naming_the_problem() -> None:
    _, events = parse_lines(['{"type":"message","role":"assistant","content":"Hel'])
    (error,) = of(events, ErrorEvent)
    assert error.recoverable
    assert "truncated or malformed JSON" in error.message
    assert '"content":"Hel' in error.message


def test_ten_megabyte_line_is_handled_without_crashing() -> None:
    big = "x" * (10 * 1024 * 1024)
    _, events = parse_lines(
        [json.dumps({"type": "message", "role": "assistant", "content": big, "delta": True})]
    )
    assert [len(d.text) for d in of(events, TextDelta)] == [len(big)]
    _, events = parse_lines(['{"type":"message","content":"' + big])
    (error,) = of(events, ErrorEvent)
    assert len(error.message) < 1000  # an excerpt, not the whole line


def test_non_json_unknown_warning_and_odd_lines() -> None:
    _, events = parse_lines(
        [
            "Loaded cached credentials.",
            "[1, 2]",
            '{"type":"brand_new","x":1}',
            '{"type":"error","severity":"warning","message":"loop detected"}',
            '{"type":"message","role":"user","content":"echo of the prompt"}',
            '{"type":"tool_result","tool_id":"unknown-id","status":"success","output":"o"}',
            '{"type":"result","status":"error"}',
            "   ",
        ]
    )
    assert [d.text for d in of(events, TextDelta)] == ["Loaded cached credentials.", "[1, 2]"]
    assert of(events, Metadata)[0].metadata["type"] == "gemini_unhandled"
    errors = of(events, ErrorEvent)
    assert errors[0] == ErrorEvent("gemini warning: loop detected", True)
    assert errors[1] == ErrorEvent("gemini run failed", False)
    assert of(events, ToolResult) == [ToolResult("unknown-id", "o", True)]


def test_non_delta_message_is_a_final_text() -> None:
    _, events = parse_lines(
        ['{"type":"message","role":"assistant","content":"whole answer","delta":false}']
    )
    assert of(events, FinalText) == [FinalText("whole answer")]


def test_tokens_from_both_stats_shapes() -> None:
    stream = tokens_from_stats({"input_tokens": 10, "output_tokens": 3, "cached": 4})
    assert stream is not None
    assert (stream.input, stream.output, stream.cached) == (10, 3, 4)
    document = tokens_from_stats(
        {
            "models": {
                "a": {"tokens": {"prompt": 5, "candidates": 2, "thoughts": 1, "cached": 0}},
                "b": {"tokens": {"input": 7, "candidates": 1}},
            }
        }
    )
    assert document is not None
    assert (document.input, document.output, document.cached) == (12, 4, None)
    assert tokens_from_stats({"models": {}}) is None
    assert tokens_from_stats("nope") is None
