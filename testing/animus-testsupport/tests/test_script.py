from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from animus_testsupport import Script, ScriptError, ToolCall, Turn, load_script


def test_plain_strings_and_objects_become_turns() -> None:
    script = Script.from_data(
        ["just text", {"tool_calls": [{"name": "Bash", "input": {"command": "ls"}}]}]
    )
    assert script.turns[0] == Turn(text="just text")
    assert script.turns[1].tool_calls == (ToolCall("Bash", {"command": "ls"}),)
    assert script.default is None


def test_mapping_form_carries_a_default() -> None:
    script = Script.from_data({"turns": [], "default": {"text": "fallback", "times": 0}})
    assert script.turns == ()
    assert script.default == Turn(text="fallback", times=0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([{"txt": "typo"}], "turns[0]: unknown field(s) ['txt']"),
        ([{}], "turns[0]: a turn needs text, thinking, tool_calls or error"),
        ([42], "turns[0]: a turn must be an object or a string"),
        ([{"error": {"status": 200}}], "turns[0].error.status: expected an HTTP error status"),
        ([{"text": "x", "match": {"api": "grpc"}}], "turns[0].match.api: expected one of"),
        ([{"tool_calls": [{"input": {}}]}], "turns[0].tool_calls[0].name"),
        ([{"tool_calls": [{"name": "apply_patch", "custom": True}]}], "raw_input"),
        ([{"text": "x", "chunk_delay": -1}], "turns[0].chunk_delay"),
        ([{"text": "x", "chunk_size": 0}], "turns[0].chunk_size"),
        ([{"text": "x", "times": -2}], "turns[0].times"),
        ([{"text": "x", "usage": {"tokens": 3}}], "turns[0].usage: unknown field(s)"),
        ({"turns": "nope"}, "script.turns: expected a list"),
        ({"turns": [], "extra": 1}, "script: unknown field(s) ['extra']"),
    ],
)
def test_malformed_scripts_name_the_offending_field(data: Any, message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        Script.from_data(data)
    assert message in str(caught.value)


def test_load_script_from_file(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"turns": ["a", {"text": "b"}]}))
    assert [t.text for t in load_script(path).turns] == ["a", "b"]


def test_load_script_reports_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="cannot read script"):
        load_script(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    with pytest.raises(ScriptError, match="is not valid JSON"):
        load_script(broken)


def test_stream_error_needs_cut_after() -> None:
    with pytest.raises(ScriptError, match=r"turns\[0\]\.stream_error: needs cut_after"):
        Script.from_data([{"text": "x", "stream_error": "boom"}])
