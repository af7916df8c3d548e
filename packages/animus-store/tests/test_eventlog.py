from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from animus_store import StateWriteError
from animus_store.eventlog import EventLog
from animus_store.redact import REDACTED


def test_append_redacts_and_writes_one_line_each(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "logs" / "events.jsonl")
    written = log.append({"event": "start", "api_key": "sk-1", "msg": "password=hunter2"})
    assert written["api_key"] == REDACTED
    assert "ts" in written
    lines = (tmp_path / "logs" / "events.jsonl").read_text().splitlines()
    assert len(lines) == 1
    on_disk = json.loads(lines[0])
    assert on_disk["api_key"] == REDACTED
    assert on_disk["msg"] == f"password={REDACTED}"
    assert "sk-1" not in lines[0]
    assert "hunter2" not in lines[0]


def test_rotation_keeps_backups_and_tail_reads_across_files(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path, max_bytes=400, backups=3)
    for seq in range(60):
        log.append({"seq": seq, "pad": "x" * 40})
    files = log.files()
    assert [p.name for p in files] == [
        "events.jsonl.3",
        "events.jsonl.2",
        "events.jsonl.1",
        "events.jsonl",
    ]
    assert all(p.stat().st_size <= 400 for p in files)
    assert [r["seq"] for r in log.tail(12)] == list(range(48, 60))
    kept = [r["seq"] for r in log]
    assert kept == sorted(kept)
    assert kept[-1] == 59
    assert kept[0] > 0  # the oldest were rotated out, never reordered
    assert [r["seq"] for r in log.iter_since(55)] == [56, 57, 58, 59]
    assert log.tail(0) == []
    assert len(log.tail(10_000)) == len(kept)


def test_iter_since_timestamp(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "e.jsonl")
    log.append({"n": 1, "ts": "2026-01-01T00:00:00Z"})
    log.append({"n": 2, "ts": "2026-01-02T00:00:00Z"})
    log.append({"n": 3, "ts": "not a time"})
    assert [r["n"] for r in log.iter_since("2026-01-01T12:00:00Z")] == [2]
    assert [r["n"] for r in log.iter_since(datetime(2025, 1, 1, tzinfo=UTC))] == [1, 2]
    with pytest.raises(ValueError, match="no time zone"):
        list(log.iter_since("2026-01-01T00:00:00"))
    with pytest.raises(ValueError, match="not an RFC 3339 timestamp"):
        list(log.iter_since("yesterday"))


def test_torn_lines_are_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    log = EventLog(path)
    log.append({"n": 1})
    with path.open("a") as handle:
        handle.write('{"n": 2, "torn')
        handle.write("\n")
    log.append({"n": 3})
    assert [r["n"] for r in log] == [1, 3]


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes must be positive"):
        EventLog(tmp_path / "e.jsonl", max_bytes=0)
    with pytest.raises(ValueError, match="backups must be >= 0"):
        EventLog(tmp_path / "e.jsonl", backups=-1)
    log = EventLog(tmp_path / "e.jsonl")
    with pytest.raises(TypeError, match="must be a mapping"):
        log.append(["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(StateWriteError, match="not JSON-serializable"):
        log.append({"x": float("inf")})
    log.append({"obj": object()})  # written as its str(), never refused
    assert log.tail(1)[0]["obj"].startswith("<object")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StateWriteError, match="cannot append"):
        EventLog(blocker / "e.jsonl").append({})


def test_zero_backups_truncates(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "e.jsonl", max_bytes=100, backups=0)
    for i in range(20):
        log.append({"i": i})
    assert log.files() == [tmp_path / "e.jsonl"]
    assert log.tail(1)[0]["i"] == 19


WRITER = """
    import sys
    from animus_store.eventlog import EventLog
    log = EventLog(sys.argv[1], max_bytes=4096, backups=50)
    for i in range(int(sys.argv[3])):
        log.append({"writer": sys.argv[2], "i": i, "pad": "y" * 60})
"""


def test_concurrent_processes_lose_no_line_across_rotation(
    tmp_path: Path, spawn: Callable[..., Any]
) -> None:
    path = tmp_path / "events.jsonl"
    procs = [spawn(WRITER, str(path), f"w{n}", "100") for n in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    log = EventLog(path, max_bytes=4096, backups=50)
    records = list(log)
    assert len(records) == 400
    for n in range(4):
        assert sorted(r["i"] for r in records if r["writer"] == f"w{n}") == list(range(100))
    assert len(log.files()) > 2


def test_tail_reads_backwards_across_block_boundaries(tmp_path: Path) -> None:
    from animus_store.eventlog import _lines_backwards

    path = tmp_path / "e.jsonl"
    lines = [json.dumps({"n": n, "pad": "q" * (n * 37 % 300)}).encode() for n in range(500)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert list(_lines_backwards(path, block=97)) == lines[::-1]
    path.write_bytes(b"\n".join(lines))  # no final newline
    assert list(_lines_backwards(path, block=50)) == lines[::-1]
    assert [r["n"] for r in EventLog(path).tail(3)] == [497, 498, 499]
