from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from animus_store import SCHEMA_VERSION, Database, SchemaVersionError, StoreError
from animus_store.schema import task_priority_rank

TABLES = {
    "schema_migrations",
    "workflows",
    "checkpoints",
    "tasks",
    "task_tags",
    "task_dependencies",
    "requirements",
    "requirement_tags",
    "queue_entries",
    "step_journal",
    "history",
    "errors",
    "counters",
    "fencing",
}


def _tables(db: Database) -> set[str]:
    with db.read() as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows} - {"sqlite_sequence"}


def test_fresh_database_is_migrated_with_wal_and_pragmas(tmp_path: Path) -> None:
    with Database(tmp_path / "state" / "workflow.db") as db:
        assert db.schema_version() == SCHEMA_VERSION
        assert _tables(db) == TABLES
        assert db.pragma("journal_mode") == "wal"
        assert db.pragma("foreign_keys") == 1
        assert db.pragma("synchronous") == 2  # FULL
        assert db.pragma("busy_timeout") == 5000
    with Database(tmp_path / "n.db", synchronous="normal", busy_timeout_ms=250) as db:
        assert db.pragma("synchronous") == 1
        assert db.pragma("busy_timeout") == 250


def test_reopen_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "workflow.db"
    Database(path).close()
    with Database(path) as db, db.transaction() as conn:
        conn.execute("INSERT INTO workflows(id, status, json) VALUES ('wf-1', 'running', '{}')")
    with Database(path) as db, db.read() as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(
            [1 for _ in range(SCHEMA_VERSION)]
        )
        assert conn.execute("SELECT id FROM workflows").fetchone()[0] == "wf-1"


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "workflow.db"
    Database(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
    raw.close()
    with pytest.raises(SchemaVersionError, match=r"newer than this Animus understands"):
        Database(path)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 7
    raw.close()


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous must be one of"):
        Database(tmp_path / "a.db", synchronous="SOMETIMES")
    with pytest.raises(ValueError, match="busy_timeout_ms"):
        Database(tmp_path / "a.db", busy_timeout_ms=-1)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        Database(garbage)
    assert garbage.read_bytes().startswith(b"this is not sqlite")
    db = Database(tmp_path / "b.db")
    with pytest.raises(ValueError, match="invalid counter name"):
        db.next_id("TASK; DROP TABLE tasks")
    db.close()
    with pytest.raises(StoreError, match="is closed"):
        db.next_id("TASK")


def test_transaction_rolls_back_and_nests_as_savepoints(tmp_path: Path) -> None:
    with Database(tmp_path / "w.db") as db:

        def fail_outer() -> None:
            with db.transaction() as conn:
                conn.execute("INSERT INTO counters VALUES ('x', 1)")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            fail_outer()
        with db.transaction() as conn:
            conn.execute("INSERT INTO counters VALUES ('a', 1)")

            def fail_inner() -> None:
                with db.transaction() as inner:
                    inner.execute("INSERT INTO counters VALUES ('b', 1)")
                    raise RuntimeError("inner")

            with pytest.raises(RuntimeError):
                fail_inner()
            conn.execute("INSERT INTO counters VALUES ('c', 1)")
        with db.read() as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM counters ORDER BY name")]
        assert names == ["a", "c"]


def test_foreign_keys_cascade_and_are_enforced(tmp_path: Path) -> None:
    with Database(tmp_path / "w.db") as db:
        with db.transaction() as conn:
            conn.execute(
                "INSERT INTO tasks(id, number, status, json) VALUES ('TASK-001', 1, 'ready', '{}')"
            )
            conn.execute("INSERT INTO task_tags VALUES ('TASK-001', 'ui')")
        with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
            conn.execute("INSERT INTO task_tags VALUES ('TASK-404', 'ui')")
        with db.transaction() as conn:
            conn.execute("DELETE FROM tasks WHERE id = 'TASK-001'")
        with db.read() as conn:
            assert conn.execute("SELECT count(*) FROM task_tags").fetchone()[0] == 0


def test_queue_status_is_checked(tmp_path: Path) -> None:
    with (
        Database(tmp_path / "w.db") as db,
        pytest.raises(sqlite3.IntegrityError),
        db.transaction() as conn,
    ):
        conn.execute(
            "INSERT INTO queue_entries(entry_id, seq, subject_id, subject_key, subject_kind,"
            " status, requested_at, enqueued_at, dispatch_json)"
            " VALUES ('q1', 1, 'T', 'T', 'task', 'bogus', 'now', 'now', '{}')"
        )


def test_lease_query_uses_the_pending_index(tmp_path: Path) -> None:
    with Database(tmp_path / "w.db") as db, db.read() as conn:
        plan = " ".join(
            str(row[3])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT entry_id FROM queue_entries q WHERE status = 'pending' "
                "AND NOT EXISTS (SELECT 1 FROM queue_entries a WHERE a.subject_key = q.subject_key"
                " AND a.status = 'assigned') ORDER BY priority_rank, requested_at, seq LIMIT 10"
            )
        )
    assert "idx_queue_status_order" in plan
    assert "TEMP B-TREE" not in plan  # ordered straight off the index, no sort


def test_next_id_counts_and_respects_floor(tmp_path: Path) -> None:
    with Database(tmp_path / "w.db") as db:
        assert [db.next_id("TASK") for _ in range(3)] == ["TASK-001", "TASK-002", "TASK-003"]
        assert db.next_id("REQ") == "REQ-001"
        assert db.ensure_counter_at_least("TASK", 1200) == 1200
        assert db.ensure_counter_at_least("TASK", 5) == 1200
        assert db.next_id("TASK") == "TASK-1201"


def test_threads_share_a_database_safely(tmp_path: Path) -> None:
    ids: list[str] = []
    lock = threading.Lock()
    with Database(tmp_path / "w.db") as db:

        def work() -> None:
            for _ in range(25):
                new = db.next_id("TASK")
                with lock:
                    ids.append(new)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(ids) == [f"TASK-{n:03d}" for n in range(1, 101)]


WRITER = """
    import sys
    from animus_store import Database
    db = Database(sys.argv[1])
    me = sys.argv[2]
    for i in range(int(sys.argv[3])):
        with db.transaction() as conn:
            task_id = db.next_id("TASK")
            conn.execute(
                "INSERT INTO history(ts, event_type, task_id, message, json) VALUES (?,?,?,?,?)",
                ("now", "created", task_id, me, "{}"),
            )
    db.close()
"""


def test_concurrent_writer_processes_wait_instead_of_failing(
    tmp_path: Path, spawn: Callable[..., Any]
) -> None:
    path = tmp_path / "workflow.db"
    rounds, writers = 60, 5
    procs = [spawn(WRITER, str(path), f"p{i}", str(rounds)) for i in range(writers)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with Database(path) as db, db.read() as conn:
        rows = conn.execute("SELECT task_id, message FROM history").fetchall()
        assert len(rows) == rounds * writers
        assert len({r[0] for r in rows}) == rounds * writers
        assert conn.execute("SELECT value FROM counters WHERE name='TASK'").fetchone()[0] == (
            rounds * writers
        )


def test_fencing_tokens_increase(tmp_path: Path) -> None:
    with Database(tmp_path / "w.db") as db:
        assert db.current_fencing_token() == 0
        assert db.acquire_fencing_token("pid-1") == 1
        assert db.acquire_fencing_token("pid-2") == 2
        assert db.current_fencing_token() == 2
        assert db.acquire_fencing_token("x", scope="other") == 1


def test_priority_ranks() -> None:
    assert task_priority_rank("critical") < task_priority_rank("high") < task_priority_rank(None)
    assert task_priority_rank("LOW") == 3
    assert task_priority_rank("whatever") == 2


def test_unversioned_legacy_database_is_adopted_without_losing_rows(tmp_path: Path) -> None:
    path = tmp_path / "workflow.db"
    raw = sqlite3.connect(path)
    raw.executescript(
        """
        CREATE TABLE workflows(id TEXT PRIMARY KEY, status TEXT, task_id TEXT, phase_id TEXT,
            failed_at TEXT, failure_reason TEXT, started_at TEXT, completed_at TEXT, json BLOB);
        CREATE INDEX idx_workflows_status ON workflows(status);
        CREATE TABLE tasks(id TEXT PRIMARY KEY, status TEXT, title TEXT, priority TEXT,
            task_type TEXT, updated_at TEXT, completed_at TEXT, blocked_reason TEXT,
            blocked_at TEXT, json BLOB);
        INSERT INTO workflows VALUES ('wf-1', 'completed', 'TASK-002', NULL, NULL, NULL,
            '2025-01-01T00:00:00Z', NULL, '{"id": "wf-1"}');
        INSERT INTO workflows VALUES ('wf-2', 'failed', NULL, NULL, NULL, NULL, NULL, NULL,
            X'28B52FFD0000');
        INSERT INTO tasks VALUES ('TASK-002', 'ready', 'Fix it', 'high', 'bugfix', NULL, NULL,
            NULL, NULL, '{"id": "TASK-002"}');
        """
    )
    raw.commit()
    raw.close()
    with Database(path) as db, db.read() as conn:
        assert [tuple(r) for r in conn.execute("SELECT id, status, json FROM workflows")] == [
            ("wf-1", "completed", '{"id": "wf-1"}')
        ]
        assert conn.execute("SELECT count(*) FROM legacy_v0_workflows").fetchone()[0] == 2
        task = conn.execute("SELECT id, number, title, priority FROM tasks").fetchone()
        assert tuple(task) == ("TASK-002", 2, "Fix it", "high")
    with Database(path) as db:
        assert db.schema_version() == SCHEMA_VERSION


def test_writing_inside_a_read_snapshot_is_refused(tmp_path: Path) -> None:
    with Database(tmp_path / "w.db") as db:
        with db.read(), pytest.raises(StoreError, match=r"cannot write inside Database\.read"):
            db.next_id("TASK")
        assert db.next_id("TASK") == "TASK-001"


def test_unopenable_database_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open database"):
        Database(blocker / "workflow.db")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match=r"dir\.db"):
        Database(tmp_path / "dir.db")


def test_a_forked_child_gets_its_own_connection(tmp_path: Path) -> None:
    import multiprocessing

    with Database(tmp_path / "w.db") as db:
        assert db.next_id("TASK") == "TASK-001"
        ctx = multiprocessing.get_context("fork")
        child = ctx.Process(target=db.next_id, args=("TASK",))
        child.start()
        child.join(60)
        assert child.exitcode == 0
        assert db.next_id("TASK") == "TASK-003"
