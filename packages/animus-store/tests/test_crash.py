"""kill -9 in the middle of writing: nothing acknowledged is lost, nothing is left torn."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animus_store import Database, StepJournal, read_json

WRITER = """
    import sys, pathlib
    from animus_store import Database, StepJournal, write_json_atomic
    base = pathlib.Path(sys.argv[1])
    db = Database(base / "workflow.db")
    journal = StepJournal(db)
    token = db.acquire_fencing_token("victim")
    for i in range(100000):
        write_json_atomic(base / "core-state.json", {"i": i, "pad": "z" * (i % 5000)})
        with db.transaction() as conn:
            conn.execute(
                "INSERT INTO history(ts, event_type, message, json) VALUES ('t', 'n', ?, '{}')",
                (str(i),),
            )
        journal.begin("run", "p", i, "step", f"run/{i}", token)
        journal.commit("run", i, {"i": i}, token)
        print(i, flush=True)
"""


def test_sigkill_loses_no_acknowledged_write(tmp_path: Path, spawn: Callable[..., Any]) -> None:
    victim = spawn(WRITER, str(tmp_path))
    acknowledged = -1
    assert victim.stdout is not None
    for line in victim.stdout:
        acknowledged = int(line)
        if acknowledged >= 40:
            break
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    state = read_json(tmp_path / "core-state.json")  # parses: never torn
    assert state["i"] >= acknowledged
    with Database(tmp_path / "workflow.db") as db:
        with db.read() as conn:
            rows = [int(r[0]) for r in conn.execute("SELECT message FROM history")]
        assert rows == list(range(len(rows)))
        assert len(rows) - 1 >= acknowledged
        steps = StepJournal(db).steps_for_run("run")
        committed = [s.ordinal for s in steps if s.committed]
        assert committed[: acknowledged + 1] == list(range(acknowledged + 1))
        # At most the one step in flight is left at intent, and a new owner can finish it.
        pending = StepJournal(db).pending_for_run("run")
        assert len(pending) <= 1
        token = db.acquire_fencing_token("successor")
        for step in pending:
            resumed = StepJournal(db).begin(
                "run", "p", step.ordinal, "step", f"run/{step.ordinal}", token
            )
            assert resumed.interrupted
            StepJournal(db).commit("run", step.ordinal, {"i": step.ordinal}, token)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 1  # at most the temp file of the write that was cut short
