from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from animus_store import (
    CorruptStateError,
    StateWriteError,
    load_json_state,
    read_json,
    read_json_or_default,
    write_json_atomic,
    write_json_if_missing,
    write_json_pretty,
    write_text_atomic,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_and_read_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "dir" / "state.json"
    write_json_atomic(target, {"a": 1, "ü": ["x", None]})
    assert json.loads(target.read_text("utf-8")) == {"a": 1, "ü": ["x", None]}
    assert _mode(target) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_pretty_has_indent_and_newline(tmp_path: Path) -> None:
    target = tmp_path / "p.json"
    write_json_pretty(target, {"k": [1, 2]})
    text = target.read_text()
    assert text.endswith("}\n")
    assert '\n  "k": [' in text


def test_existing_permissions_are_preserved(tmp_path: Path) -> None:
    target = tmp_path / "secret.json"
    write_json_atomic(target, {}, mode=0o600)
    assert _mode(target) == 0o600
    write_json_atomic(target, {"v": 2})
    assert _mode(target) == 0o600
    write_text_atomic(target, "{}")
    assert _mode(target) == 0o600


def test_unserializable_value_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "s.json"
    write_json_atomic(target, {"keep": True})
    with pytest.raises(StateWriteError, match=r"s\.json.*not JSON-serializable"):
        write_json_atomic(target, {"bad": object()})
    with pytest.raises(StateWriteError, match="not JSON-serializable"):
        write_json_atomic(target, {"nan": float("nan")})
    assert json.loads(target.read_text()) == {"keep": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_write_into_a_file_path_parent_fails_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateWriteError, match="cannot write"):
        write_json_atomic(blocker / "child.json", {})


def test_write_json_if_missing(tmp_path: Path) -> None:
    target = tmp_path / "once.json"
    assert write_json_if_missing(target, {"first": True}) is True
    assert write_json_if_missing(target, {"second": True}) is False
    assert json.loads(target.read_text()) == {"first": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["once.json"]


def test_write_json_if_missing_race_between_processes(
    tmp_path: Path, spawn: Callable[..., Any]
) -> None:
    target = tmp_path / "race.json"
    go = tmp_path / "go"
    code = """
        import sys, time, pathlib
        from animus_store import write_json_if_missing
        target, go, me = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
        deadline = time.monotonic() + 30
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.001)
        won = write_json_if_missing(target, {"writer": me, "pad": "x" * 50000})
        print("won" if won else "lost")
    """
    procs = [spawn(code, str(target), str(go), str(i)) for i in range(6)]
    go.touch()
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(out.strip())
    assert sorted(outputs) == ["lost"] * 5 + ["won"]
    winner = str(outputs.index("won"))
    assert json.loads(target.read_text())["writer"] == winner
    assert sorted(p.name for p in tmp_path.iterdir()) == ["go", "race.json"]


def test_missing_file_gives_a_copy_of_the_default(tmp_path: Path) -> None:
    default: dict[str, list[int]] = {"items": []}
    value = read_json_or_default(tmp_path / "none.json", default)
    value["items"].append(1)
    assert default == {"items": []}
    assert not load_json_state(tmp_path / "none.json", {}).existed


def test_corrupt_file_is_quarantined_never_overwritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "core-state.json"
    target.write_text('{"half": ')
    reports: list[CorruptStateError] = []
    with caplog.at_level(logging.WARNING, logger="animus_store"):
        value = read_json_or_default(target, {"fresh": True}, on_corrupt=reports.append)
    assert value == {"fresh": True}
    assert not target.exists()
    (moved,) = (reports[0].quarantined and [reports[0].quarantined]) or []
    assert moved.name.startswith("core-state.json.corrupt-")
    assert moved.read_text() == '{"half": '
    assert "not valid JSON" in caplog.text
    assert str(moved) in str(reports[0])

    # A second corrupt copy gets its own name; the first is untouched.
    target.write_bytes(b"\xff\xfe not utf8")
    second = load_json_state(target, None)
    assert second.quarantined is not None
    assert second.quarantined != moved
    assert moved.read_text() == '{"half": '
    assert second.quarantined.read_bytes() == b"\xff\xfe not utf8"


def test_read_json_strict_raises_and_leaves_the_file(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    target.write_text("[1,")
    with pytest.raises(CorruptStateError, match=r"x\.json is not valid JSON"):
        read_json(target)
    assert target.read_text() == "[1,"
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "missing.json")


def test_no_temp_files_survive_many_writes(tmp_path: Path) -> None:
    target = tmp_path / "t.json"
    for i in range(50):
        write_json_atomic(target, {"i": i})
    assert os.listdir(tmp_path) == ["t.json"]
    assert read_json(target) == {"i": 49}
