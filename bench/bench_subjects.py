"""Benchmarks for the subject services and the CLI's cold start.

Figures (issue 3 targets in brackets):

* ``python -c pass`` cold start, the baseline;
* ``animus --version`` cold process [<= 120 ms median] and its ratio to the baseline;
* ``animus --json subject list`` cold process on 1,000 tasks [<= 250 ms median];
* ``subject list --status ready --limit 50`` on 100,000 tasks, in process and as a cold
  ``animus`` process [<= 300 ms];
* ``task next`` (ready, dependencies met, most urgent) on the same database, in process.

Prints one line per figure and saves ``bench/results/subjects.json``.
``ANIMUS_BENCH_QUICK=1`` uses 10,000 tasks instead of 100,000 and fewer runs.

Cold processes run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed, the cache
under a temporary ``PYTHONPYCACHEPREFIX``), as an installed ``animus`` has its ``.pyc``
files; the first, compiling run of each command is discarded.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animus_core._task_rows import save_task
from animus_core.hub import ServiceHub
from animus_core.subjects import SubjectQuery
from animus_protocol.statuses import Priority, TaskStatus
from animus_protocol.task import Task

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "subjects.json"
BIG = 10_000 if QUICK else 100_000
RUNS = 5 if QUICK else 15


def _stats(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "n": len(samples),
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 2),
        "min_ms": round(samples[0], 2),
    }


def _cold(argv: list[str], env: dict[str, str], runs: int = RUNS) -> dict[str, float]:
    samples = []
    for _ in range(runs + 1):
        start = time.perf_counter_ns()
        proc = subprocess.run(argv, capture_output=True, env=env, check=False)
        elapsed = (time.perf_counter_ns() - start) / 1e6
        if proc.returncode != 0:
            raise SystemExit(f"{argv} failed: {proc.stderr.decode()[-500:]}")
        samples.append(elapsed)
    return _stats(samples[1:])  # the first run warms the page cache


def _warm(fn: Callable[[], Any], runs: int = RUNS * 4) -> dict[str, float]:
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return _stats(samples)


def _fill(hub: ServiceHub, count: int) -> None:
    """Insert ``count`` tasks in one transaction (a fifth ready, priorities mixed)."""
    statuses = [
        TaskStatus.BACKLOG,
        TaskStatus.READY,
        TaskStatus.DONE,
        TaskStatus.BACKLOG,
        TaskStatus.IN_PROGRESS,
    ]
    priorities = list(Priority)
    with hub.db.transaction() as conn:
        for n in range(1, count + 1):
            task = Task(
                id=f"TASK-{n:03d}",
                title=f"bench task {n}",
                status=statuses[n % 5],
                priority=priorities[n % 4],
                tags=[f"t{n % 10}"],
            )
            save_task(conn, task)
        conn.execute(
            "INSERT INTO counters(name, value) VALUES ('TASK', ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (count,),
        )


def main() -> None:
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "quick": QUICK,
        "tasks_big": BIG,
    }
    animus = [sys.executable, "-m", "animus_cli"]
    with tempfile.TemporaryDirectory(prefix="animus-bench-subjects-") as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "ANIMUS_HOME": str(work / "home"),
            "PYTHONPYCACHEPREFIX": str(work / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        baseline = _cold([sys.executable, "-c", "pass"], env)
        results["python_c_pass"] = baseline
        version = _cold([*animus, "--version"], env)
        version["ratio_to_python"] = round(version["median_ms"] / baseline["median_ms"], 2)
        results["animus_version"] = version

        small = work / "small"
        small.mkdir()
        with ServiceHub(small, env=env) as hub:
            _fill(hub, 1000)
        listing = _cold([*animus, "--project-root", str(small), "--json", "subject", "list"], env)
        listing["ratio_to_python"] = round(listing["median_ms"] / baseline["median_ms"], 2)
        results["cli_json_subject_list_1k"] = listing

        big = work / "big"
        big.mkdir()
        start = time.perf_counter()
        with ServiceHub(big, env=env) as hub:
            _fill(hub, BIG)
            results["fill_seconds"] = round(time.perf_counter() - start, 1)
            backend = hub.subjects.backend("task")
            query = SubjectQuery(status=("ready",), limit=50)
            results["subject_list_ready_50_in_process"] = _warm(lambda: backend.list(query))
            results["task_next_in_process"] = _warm(hub.tasks.next)
        results["cli_subject_list_ready_50_cold"] = _cold(
            [
                *animus,
                "--project-root",
                str(big),
                "--json",
                "subject",
                "list",
                "--status",
                "ready",
                "--limit",
                "50",
            ],
            env,
        )

    for key, value in results.items():
        if isinstance(value, dict):
            extra = (
                f" (x{value['ratio_to_python']} python -c pass)"
                if "ratio_to_python" in value
                else ""
            )
            print(
                f"{key:36s} median {value['median_ms']:8.2f} ms  "
                f"p95 {value['p95_ms']:8.2f} ms{extra}"
            )
    print(f"{'tasks in the big database':40s} {BIG}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT.parent)}")


if __name__ == "__main__":
    main()
