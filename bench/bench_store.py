"""Benchmarks for animus-store: atomic JSON writes, committed SQLite writes, the queue lease
query, the step journal and the event log.

Prints one line per figure and saves ``bench/results/store.json``. ``ANIMUS_BENCH_QUICK=1``
runs fewer iterations (and a 20,000-entry queue instead of 100,000). The files live in a
temporary directory on the same disk as ``$TMPDIR`` (set ``ANIMUS_BENCH_DIR`` to choose).
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animus_store import Database, StepJournal, write_json_atomic
from animus_store.eventlog import EventLog

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "store.json"

LEASE_SQL = (
    "SELECT entry_id FROM queue_entries q WHERE status = 'pending' "
    "AND NOT EXISTS (SELECT 1 FROM queue_entries a WHERE a.subject_key = q.subject_key "
    "AND a.status = 'assigned') ORDER BY priority_rank, requested_at, seq LIMIT 10"
)


def _timed(fn: Callable[[int], Any], n: int, warmup: int = 5) -> dict[str, float]:
    for i in range(warmup):
        fn(-1 - i)
    samples = []
    for i in range(n):
        start = time.perf_counter_ns()
        fn(i)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    samples.sort()
    return {
        "n": n,
        "median_ms": round(statistics.median(samples), 4),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 4),
        "min_ms": round(samples[0], 4),
    }


def bench_atomic_json(work: Path) -> dict[str, float]:
    path = work / "core-state.json"
    doc = {"version": 1, "tasks": {"TASK-001": {"status": "ready", "priority": "high"}}}
    return _timed(lambda i: write_json_atomic(path, {**doc, "i": i}), 50 if QUICK else 300)


def bench_sqlite_write(work: Path, synchronous: str) -> dict[str, float]:
    with Database(work / f"write-{synchronous}.db", synchronous=synchronous) as db:

        def write(i: int) -> None:
            with db.transaction() as conn:
                conn.execute(
                    "INSERT INTO history(ts, event_type, message, json) VALUES (?, ?, ?, ?)",
                    ("2026-01-01T00:00:00Z", "bench", str(i), "{}"),
                )

        return _timed(write, 100 if QUICK else 1000)


def bench_next_id(work: Path) -> dict[str, float]:
    with Database(work / "ids.db") as db:
        return _timed(lambda _: db.next_id("TASK"), 100 if QUICK else 1000)


def bench_journal(work: Path) -> dict[str, float]:
    with Database(work / "journal.db") as db:
        journal = StepJournal(db)
        token = db.acquire_fencing_token("bench")

        def step(i: int) -> None:
            key = f"run-1/{i}"
            journal.begin("run-1", "implement", i, "spawn-agent", key, token)
            journal.commit("run-1", i, {"ok": True}, token)

        return _timed(step, 100 if QUICK else 500)


def bench_lease(work: Path) -> dict[str, Any]:
    entries = 20_000 if QUICK else 100_000
    with Database(work / "queue.db", synchronous="NORMAL") as db:
        with db.transaction() as conn:
            conn.executemany(
                "INSERT INTO queue_entries(entry_id, seq, subject_id, subject_key, subject_kind, "
                "status, priority_rank, requested_at, enqueued_at, dispatch_json) "
                "VALUES (?, ?, ?, ?, 'task', ?, ?, ?, ?, '{}')",
                (
                    (
                        f"q-{n}",
                        n,
                        f"TASK-{n}",
                        f"TASK-{n % (entries // 2)}",
                        "pending" if n % 10 else "completed",
                        n % 4,
                        f"2026-01-01T00:{(n // 60) % 60:02d}:{n % 60:02d}.{n:06d}Z",
                        "2026-01-01T00:00:00Z",
                    )
                    for n in range(entries)
                ),
            )
            conn.execute("ANALYZE")

        def lease(_: int) -> None:
            # A real lease: the next 10 by priority then FIFO, skipping subjects that
            # already have an assigned entry, marked assigned in the same transaction.
            with db.transaction() as conn:
                ids = [r[0] for r in conn.execute(LEASE_SQL)]
                conn.executemany(
                    "UPDATE queue_entries SET status = 'assigned', assigned_at = ? "
                    "WHERE entry_id = ?",
                    (("2026-01-01T01:00:00Z", i) for i in ids),
                )

        figure: dict[str, Any] = _timed(lease, 50 if QUICK else 200)
        figure["entries"] = entries
        return figure


def bench_eventlog(work: Path) -> dict[str, float]:
    log = EventLog(work / "logs" / "events.jsonl", max_bytes=1024 * 1024)
    record = {"event_type": "workflow", "data": {"phase": "implement", "token": "x"}}
    return _timed(lambda i: log.append({**record, "seq": i}), 200 if QUICK else 2000)


def main() -> int:
    base = os.environ.get("ANIMUS_BENCH_DIR") or None
    with tempfile.TemporaryDirectory(prefix="animus-bench-store-", dir=base) as tmp:
        work = Path(tmp)
        figures = {
            "atomic_json_write": bench_atomic_json(work),
            "sqlite_commit_full": bench_sqlite_write(work, "FULL"),
            "sqlite_commit_normal": bench_sqlite_write(work, "NORMAL"),
            "next_id": bench_next_id(work),
            "journal_begin_commit": bench_journal(work),
            "queue_lease_10": bench_lease(work),
            "eventlog_append": bench_eventlog(work),
        }
    targets = {"sqlite_commit_full": 0.5, "queue_lease_10": 5.0}
    for name, figure in figures.items():
        target = targets.get(name)
        verdict = ""
        if target is not None:
            met = figure["median_ms"] <= target
            figure["target_median_ms"] = target
            figure["meets_target"] = met
            verdict = f"  (target <= {target} ms: {'met' if met else 'NOT met'})"
        extra = f" over {figure['entries']:,} entries" if "entries" in figure else ""
        print(
            f"{name:24s} median {figure['median_ms']:8.4f} ms  p95 {figure['p95_ms']:8.4f} ms"
            f"  n={figure['n']}{extra}{verdict}"
        )
    result = {
        "benchmark": "store",
        "quick": QUICK,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "figures": figures,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
