"""Benchmarks for the queue service on a 100,000-entry queue.

Figures (issue 3 target in brackets):

* ``lease(10)`` through ``QueueService`` [<= 5 ms median]: one BEGIN IMMEDIATE transaction,
  the ordered index scan with every skip rule, the update, the commit and the 10 parsed
  entries; measured at the hub's durability (``synchronous=FULL``: the commit waits for an
  fsync) and at ``NORMAL`` (the work itself). Leased entries are completed between samples,
  outside the timed window, so about ten entries are assigned at any time, as with a
  daemon whose runs finish;
* the same with a busy head of line: the first 1,000 pending entries belong to subjects with
  an active workflow run, and 1,000 more are tasks blocked by an unfinished dependency;
* ``enqueue`` of one subject (duplicate guard + insert, committed), ``stats``, ``list`` of 50.

Entries are inserted with SQL in the setup (the service is what is timed). Prints one line
per figure and saves ``bench/results/queue.json``. ``ANIMUS_BENCH_QUICK=1`` uses 20,000
entries and fewer iterations.
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

from animus_core.hub import ServiceHub
from animus_protocol.subjects import SubjectDispatch, SubjectRef

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "queue.json"
ENTRIES = 20_000 if QUICK else 100_000
TARGET_LEASE_MS = 5.0


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


def _fill(hub: ServiceHub, entries: int, busy_head: int) -> None:
    """``entries`` pending custom-subject entries; the first ``busy_head`` subjects have a
    running workflow run and the next ``busy_head`` are tasks blocked by an unfinished task."""
    template = SubjectDispatch(
        subject=SubjectRef(kind="custom", id="S", title="S"),
        workflow_ref="standard",
        trigger_source="bench",
        requested_at="2026-01-01T00:00:00Z",
    ).model_dump_json(by_alias=True, exclude_none=True)
    with hub.db.transaction() as conn:
        conn.executemany(
            "INSERT INTO queue_entries(entry_id, seq, subject_id, subject_key, subject_kind,"
            " task_id, workflow_ref, status, priority_rank, trigger_source, requested_at,"
            " enqueued_at, dispatch_json) VALUES (?, ?, ?, ?, ?, ?, 'standard', 'pending', ?,"
            " 'bench', ?, '2026-01-01T00:00:00Z', ?)",
            (
                (
                    f"B-{n:07d}",
                    n + 1_000_000,
                    f"S{n}",
                    f"S{n}",
                    "animus.task" if busy_head <= n < 2 * busy_head else "custom",
                    f"S{n}" if busy_head <= n < 2 * busy_head else None,
                    0 if n < 2 * busy_head else 1 + n % 3,
                    f"2026-01-01T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}."
                    f"{n % 1_000_000:06d}Z",
                    template.replace('"S"', f'"S{n}"'),
                )
                for n in range(entries)
            ),
        )
        conn.executemany(
            "INSERT INTO workflows(id, status, task_id, subject_key, started_at, json) "
            "VALUES (?, 'running', NULL, ?, '2026-01-01T00:00:00Z', '{}')",
            ((f"wf-{n}", f"S{n}") for n in range(busy_head)),
        )
        conn.execute(
            "INSERT INTO tasks(id, number, status, title, json) VALUES "
            "('TASK-BLOCKER', 0, 'in-progress', 'blocker', '{}')"
        )
        conn.executemany(
            "INSERT INTO tasks(id, number, status, title, json) VALUES (?, ?, 'ready', 'x', '{}')",
            ((f"S{n}", n) for n in range(busy_head, 2 * busy_head)),
        )
        conn.executemany(
            "INSERT INTO task_dependencies(task_id, depends_on) VALUES (?, 'TASK-BLOCKER')",
            ((f"S{n}",) for n in range(busy_head, 2 * busy_head)),
        )
        conn.execute("ANALYZE")


def _lease_figure(hub: ServiceHub, n: int, skipped: set[str]) -> dict[str, float]:
    samples = []
    for i in range(n + 5):
        start = time.perf_counter_ns()
        leased = hub.queue.lease(10)
        elapsed = (time.perf_counter_ns() - start) / 1e6
        assert len(leased) == 10
        assert not skipped & {e.subject_key for e in leased}
        with hub.db.transaction() as conn:  # the runs finish (not timed)
            conn.executemany(
                "UPDATE queue_entries SET status = 'completed' WHERE entry_id = ?",
                [(e.entry_id,) for e in leased],
            )
        if i >= 5:
            samples.append(elapsed)
    samples.sort()
    return {
        "n": n,
        "median_ms": round(statistics.median(samples), 4),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 4),
        "min_ms": round(samples[0], 4),
    }


def _bench(work: Path, busy_head: int) -> dict[str, Any]:
    project = work / f"project-{busy_head}"
    project.mkdir()
    env = {**os.environ, "ANIMUS_HOME": str(work / "home")}
    with ServiceHub(project, env=env) as hub:
        started = time.perf_counter()
        _fill(hub, ENTRIES, busy_head)
        fill_s = round(time.perf_counter() - started, 2)
        skipped = {f"S{n}" for n in range(2 * busy_head)}

        runs = 50 if QUICK else 200
        figures: dict[str, Any] = {"fill_seconds": fill_s}
        figures["lease_10"] = _lease_figure(hub, runs, skipped)
        # Same connection, commits without waiting for fsync: the cost of the work itself.
        hub.db.connection().execute("PRAGMA synchronous = NORMAL")
        figures["lease_10_normal"] = _lease_figure(hub, runs, skipped)
        hub.db.connection().execute("PRAGMA synchronous = FULL")
        if busy_head:
            return figures

        def enqueue(i: int) -> None:
            hub.queue.enqueue(
                SubjectDispatch(
                    subject=SubjectRef(kind="custom", id=f"new-{i}"),
                    workflow_ref="standard",
                    trigger_source="bench",
                )
            )

        figures["enqueue"] = _timed(enqueue, 50 if QUICK else 200)
        figures["stats"] = _timed(lambda _: hub.queue.stats(), 20 if QUICK else 50)
        figures["list_50"] = _timed(lambda _: hub.queue.list(limit=50), 20 if QUICK else 50)
        return figures


def main() -> int:
    base = os.environ.get("ANIMUS_BENCH_DIR") or None
    with tempfile.TemporaryDirectory(prefix="animus-bench-queue-", dir=base) as tmp:
        work = Path(tmp)
        plain = _bench(work, 0)
        busy = _bench(work, 1000)
    figures = {
        "lease_10": plain["lease_10"],
        "lease_10_normal": plain["lease_10_normal"],
        "lease_10_busy_head": busy["lease_10"],
        "lease_10_busy_head_normal": busy["lease_10_normal"],
        "enqueue": plain["enqueue"],
        "stats": plain["stats"],
        "list_50": plain["list_50"],
    }
    for name in ("lease_10", "lease_10_normal", "lease_10_busy_head", "lease_10_busy_head_normal"):
        figure = figures[name]
        figure["target_median_ms"] = TARGET_LEASE_MS
        figure["meets_target"] = figure["median_ms"] <= TARGET_LEASE_MS
    for name, figure in figures.items():
        verdict = ""
        if "meets_target" in figure:
            met = "met" if figure["meets_target"] else "NOT met"
            verdict = f"  (target <= {TARGET_LEASE_MS} ms: {met})"
        print(
            f"{name:26s} median {figure['median_ms']:8.4f} ms  p95 {figure['p95_ms']:8.4f} ms"
            f"  n={figure['n']}  over {ENTRIES:,} entries{verdict}"
        )
    result = {
        "benchmark": "queue",
        "quick": QUICK,
        "entries": ENTRIES,
        "busy_head": 1000,
        "fill_seconds": plain["fill_seconds"],
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        # fsync and scheduling delays move with machine load: record it beside the figures.
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "figures": figures,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
