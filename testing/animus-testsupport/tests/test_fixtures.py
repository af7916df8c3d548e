"""The captured real-CLI streams shipped for parser tests are present and well-formed."""

from __future__ import annotations

import json

import pytest

from animus_testsupport import fixture_path


def lines(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in fixture_path(name).read_text().splitlines() if line]


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("claude_text.jsonl", "system", "result"),
        ("claude_tools.jsonl", "system", "result"),
        ("claude_error.jsonl", "system", "result"),
        ("claude_partial.jsonl", "system", "result"),
        ("codex_text.jsonl", "thread.started", "turn.completed"),
        ("codex_tools.jsonl", "thread.started", "turn.completed"),
        ("codex_error.jsonl", "thread.started", "turn.failed"),
    ],
)
def test_fixture_is_a_json_line_stream(name: str, first: str, last: str) -> None:
    events = lines(name)
    assert events[0]["type"] == first
    assert events[-1]["type"] == last
    assert "/tmp/pytest" not in fixture_path(name).read_text()


def test_claude_error_fixture_carries_the_api_error() -> None:
    result = lines("claude_error.jsonl")[-1]
    assert result["is_error"] is True
    assert "API Error: 500" in str(result["result"])


def test_unknown_fixture_names_the_available_ones() -> None:
    with pytest.raises(FileNotFoundError, match=r"claude_text\.jsonl"):
        fixture_path("gemini.jsonl")
