"""The tools, path confinement, conversation store and repair, exercised directly."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol import RpcError
from animus_provider_oai import (
    TOOL_SPECS,
    Conversation,
    ConversationStore,
    PathEscape,
    ToolBox,
    confined,
    repair_dangling_tool_calls,
    state_dir_for,
)


def run(box: ToolBox, name: str, **args: Any) -> tuple[str, bool]:
    _, outcome = asyncio.run(box.run(name, json.dumps(args)))
    return outcome.output, outcome.success


@pytest.fixture
def box(tmp_path: Path) -> ToolBox:
    root = tmp_path / "root"
    root.mkdir()
    return ToolBox(root, shell_env={"PATH": os.environ["PATH"]})


def test_confined_accepts_inside_and_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "link").symlink_to(tmp_path / "outside")
    (root / "inner-link").symlink_to(root / "sub")
    assert confined(root, "sub/a.txt") == (root / "sub" / "a.txt").resolve()
    assert confined(root, "sub/../b.txt") == (root / "b.txt").resolve()
    assert confined(root, ".") == root.resolve()
    assert confined(root, "inner-link/c") == (root / "sub" / "c").resolve()
    for bad, reason in [
        ("/etc/passwd", "absolute path"),
        ("../x", "escapes"),
        ("sub/../../x", "escapes"),
        ("link/secret", "escapes"),
        ("~/x", "absolute path"),
        ("", "non-empty"),
        ("a\x00b", "NUL"),
    ]:
        with pytest.raises(PathEscape, match=reason):
            confined(root, bad)


def test_write_read_list_and_edit(box: ToolBox) -> None:
    assert run(box, "write_file", path="pkg/a.py", content="x = 1\ny = 2\n") == (
        "created pkg/a.py (12 bytes)",
        True,
    )
    assert run(box, "read_file", path="pkg/a.py") == ("x = 1\ny = 2\n", True)
    assert run(box, "read_file", path="pkg/a.py", offset=2, limit=1) == ("y = 2\n", True)
    assert run(box, "edit_file", path="pkg/a.py", old_string="y = 2", new_string="y = 3")[1]
    assert (box.root / "pkg" / "a.py").read_text() == "x = 1\ny = 3\n"
    listing, ok = run(box, "list_files", recursive=True)
    assert ok
    assert listing.splitlines() == ["pkg/", "pkg/a.py"]
    assert run(box, "write_file", path="pkg/a.py", content="z")[0].startswith("overwrote")


def test_edit_file_refuses_absent_and_ambiguous_snippets(box: ToolBox) -> None:
    (box.root / "f.txt").write_text("a a a\n")
    output, ok = run(box, "edit_file", path="f.txt", old_string="b", new_string="c")
    assert (ok, output) == (False, "error: old_string not found in f.txt")
    output, ok = run(box, "edit_file", path="f.txt", old_string="a", new_string="c")
    assert not ok
    assert "occurs 3 times" in output
    assert (box.root / "f.txt").read_text() == "a a a\n"
    output, ok = run(
        box, "edit_file", path="f.txt", old_string="a", new_string="c", replace_all=True
    )
    assert ok
    assert (box.root / "f.txt").read_text() == "c c c\n"
    assert not run(box, "edit_file", path="f.txt", old_string="", new_string="x")[1]
    assert not run(box, "edit_file", path="nope.txt", old_string="a", new_string="b")[1]


def test_escapes_and_bad_arguments_are_failed_results_not_exceptions(
    box: ToolBox, tmp_path: Path
) -> None:
    output, ok = run(box, "write_file", path="../escape.txt", content="x")
    assert not ok
    assert "escapes the working directory" in output
    assert not (tmp_path / "escape.txt").exists()
    output, ok = run(box, "read_file", path="/etc/hostname")
    assert not ok
    assert "absolute path" in output
    assert "bad arguments" in run(box, "write_file", path="a.txt")[0]
    assert "unknown tool 'rm_rf'" in run(box, "rm_rf")[0]
    _, outcome = asyncio.run(box.run("shell", "{not json"))
    assert not outcome.success
    assert "not valid JSON" in outcome.output
    (box.root / "bin.dat").write_bytes(b"\x00\x01")
    assert "binary" in run(box, "read_file", path="bin.dat")[0]


def test_shell_runs_in_the_cwd_reports_exit_and_times_out(box: ToolBox) -> None:
    output, ok = run(box, "shell", command="pwd; echo err >&2; exit 3")
    assert not ok
    assert output.splitlines()[0] == "exit code 3"
    assert str(box.root) in output
    assert "err" in output
    output, ok = run(box, "shell", command="sleep 30 & sleep 30", timeout_secs=1)
    assert not ok
    assert "timed out after 1s" in output
    assert run(box, "shell", command="env")[0].count("OAI_API_KEY") == 0


def test_tool_specs_are_the_five_tools() -> None:
    names = [spec["function"]["name"] for spec in TOOL_SPECS]
    assert names == ["read_file", "write_file", "edit_file", "list_files", "shell"]


def test_store_round_trip_and_bad_files(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "s")
    convo = Conversation("abc-1", "m", "/w", [{"role": "user", "content": "hi"}])
    path = store.save(convo)
    assert path == tmp_path / "s" / "abc-1.json"
    assert store.load("abc-1").messages == [{"role": "user", "content": "hi"}]
    with pytest.raises(RpcError, match="no oai conversation 'nope'"):
        store.load("nope")
    with pytest.raises(RpcError, match="not usable as a conversation name"):
        store.load("../etc/passwd")
    (tmp_path / "s" / "broken.json").write_text("{half")
    with pytest.raises(RpcError, match="left untouched"):
        store.load("broken")
    assert (tmp_path / "s" / "broken.json").read_text() == "{half"


def test_state_dir_precedence(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "ANIMUS_HOME": str(tmp_path / "ah")}
    assert state_dir_for({}, env) == tmp_path / "ah" / "oai-sessions"
    assert state_dir_for({}, {"HOME": str(tmp_path)}) == tmp_path / ".animus" / "oai-sessions"
    env["ANIMUS_OAI_STATE_DIR"] = str(tmp_path / "x")
    assert state_dir_for({}, env) == tmp_path / "x"
    assert state_dir_for({"state_dir": str(tmp_path / "y")}, env) == tmp_path / "y"
    with pytest.raises(RpcError):
        state_dir_for({"state_dir": 3}, env)


def test_repair_answers_dangling_tool_calls() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "a"}, {"id": "b"}]},
        {"role": "tool", "tool_call_id": "a", "content": "done"},
        {"role": "user", "content": "again"},
    ]
    assert repair_dangling_tool_calls(messages) == 1
    assert messages[3] == {
        "role": "tool",
        "tool_call_id": "b",
        "content": "error: interrupted before the tool finished",
    }
    assert messages[4]["content"] == "again"
    assert repair_dangling_tool_calls(messages) == 0
