from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from animus_store import LockTimeoutError, read_json, state_lock, update_json

WRITER = """
    import sys, pathlib
    from animus_store import update_json
    path, me, rounds = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    def bump(state):
        counters = state.setdefault("counters", {})
        counters["total"] = counters.get("total", 0) + 1
        counters[me] = counters.get(me, 0) + 1
    for _ in range(rounds):
        update_json(path, bump, {})
"""


def test_eight_writer_processes_lose_no_update(tmp_path: Path, spawn: Callable[..., Any]) -> None:
    path = tmp_path / "core-state.json"
    rounds = 25
    procs = [spawn(WRITER, str(path), f"w{i}", str(rounds)) for i in range(8)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    counters = read_json(path)["counters"]
    assert counters["total"] == 8 * rounds
    assert all(counters[f"w{i}"] == rounds for i in range(8))


def test_update_json_accepts_returned_or_mutated_documents(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    assert update_json(path, lambda s: {**s, "a": 1}, {}) == {"a": 1}
    assert update_json(path, lambda s: s.update(b=2), {}) == {"a": 1, "b": 2}
    assert read_json(path) == {"a": 1, "b": 2}


def test_update_json_on_a_corrupt_file_quarantines_and_starts_from_default(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{oops")
    assert update_json(path, lambda s: s.update(n=1), {"fresh": True}) == {"fresh": True, "n": 1}
    corrupt = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(corrupt) == 1
    assert corrupt[0].read_text() == "{oops"


def test_lock_timeout_names_the_lock_file(tmp_path: Path) -> None:
    path = tmp_path / "core-state.json"
    with state_lock(path) as lock_file:
        assert lock_file == tmp_path / "core-state.json.lock"
        with (
            pytest.raises(LockTimeoutError, match=r"core-state\.json\.lock within 0\.1s"),
            state_lock(path, timeout=0.1),
        ):
            pass
    with state_lock(path, timeout=0.1):
        pass


def test_lock_held_by_another_process_times_out(tmp_path: Path, spawn: Callable[..., Any]) -> None:
    path = tmp_path / "state.json"
    holder = spawn(
        """
        import sys, time, pathlib
        from animus_store import state_lock
        with state_lock(sys.argv[1]):
            pathlib.Path(sys.argv[2]).touch()
            time.sleep(5)
        """,
        str(path),
        str(tmp_path / "held"),
    )
    try:
        for _ in range(3000):
            if (tmp_path / "held").exists():
                break
            time.sleep(0.005)
        with pytest.raises(LockTimeoutError):
            update_json(path, lambda s: s, {}, timeout=0.2)
        assert not path.exists()
    finally:
        holder.kill()
        holder.communicate()
    json.dumps(update_json(path, lambda s: s.update(ok=True), {}, timeout=10))
