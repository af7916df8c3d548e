"""Cold-start benchmarks of the ``animus`` command, and the 100,000-task list.

Figures (issue 3 targets in brackets), each a cold process, median over N runs:

* ``python -c pass`` (the baseline) and every figure's ratio to it;
* ``animus --version`` [<= 120 ms] and ``animus --help``;
* ``animus --json subject list`` on 1,000 tasks [<= 250 ms];
* ``animus --json status``, ``animus --json queue list`` and ``queue stats`` on the same project
  (1,000 tasks, 1,000 queue entries);
* ``subject list --status ready --limit 50`` on 100,000 tasks [<= 300 ms]: the service call
  in process and the cold command.

Tasks and entries are inserted with SQL in the setup. Cold processes keep their bytecode
cache (under a temporary ``PYTHONPYCACHEPREFIX``), as an installed ``animus`` does; the first
run of each command is discarded. Prints one line per figure and saves
``bench/results/cli.json``. ``ANIMUS_BENCH_QUICK=1`` uses 10,000 tasks and fewer runs.
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

from animus_core.hub import ServiceHub
from animus_core.tasks import TaskFilter
from animus_protocol.subjects import SubjectDispatch, SubjectRef
from animus_protocol.task import Task

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "cli.json"
BIG = 10_000 if QUICK else 100_000
RUNS = 5 if QUICK else 15
TARGETS = {"animus_version": 120.0, "json_subject_list_1k": 250.0, "subject_list_ready_50": 300.0}


def _stats(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "n": len(samples),
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 2),
        "min_ms": round(samples[0], 2),
    }


def _cold(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    samples = []
    for _ in range(RUNS + 1):
        start = time.perf_counter_ns()
        proc = subprocess.run(argv, capture_output=True, env=env, check=False, timeout=120)
        elapsed = (time.perf_counter_ns() - start) / 1e6
        if proc.returncode != 0:
            raise SystemExit(f"{argv} failed: {proc.stderr.decode()[-500:]}")
        samples.append(elapsed)
    return _stats(samples[1:])


def _warm(fn: Callable[[], Any]) -> dict[str, float]:
    fn()
    samples = []
    for _ in range(RUNS * 4):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return _stats(samples)


_STATUSES = ("backlog", "ready", "done", "backlog", "in-progress")
_PRIORITIES = ("critical", "high", "medium", "low")


def _fill_tasks(hub: ServiceHub, count: int) -> None:
    """``count`` tasks straight into ``tasks`` (a fifth ready, priorities mixed)."""
    template = Task(id="TASK-X", title="T", status="backlog", priority="medium")
    base = json.loads(template.to_json())
    now = "2026-01-01T00:00:00.000000Z"
    rows = []
    for n in range(1, count + 1):
        status, priority = _STATUSES[n % 5], _PRIORITIES[n % 4]
        body = {
            **base,
            "id": f"TASK-{n:03d}",
            "title": f"bench task {n}",
            "status": status,
            "priority": priority,
        }
        rows.append(
            (
                f"TASK-{n:03d}",
                n,
                status,
                f"bench task {n}",
                priority,
                n % 4,
                "feature",
                now,
                now,
                json.dumps(body, separators=(",", ":")),
            )
        )
    with hub.db.transaction() as conn:
        conn.executemany(
            "INSERT INTO tasks(id, number, status, title, priority, priority_rank, task_type,"
            " created_at, updated_at, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute(
            "INSERT INTO counters(name, value) VALUES ('TASK', ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (count,),
        )
        conn.execute("ANALYZE")


def _fill_queue(hub: ServiceHub, count: int) -> None:
    for n in range(count):
        hub.queue.enqueue(
            SubjectDispatch(
                subject=SubjectRef(kind="custom", id=f"job-{n}"),
                workflow_ref="standard",
                trigger_source="bench",
            )
        )


def main() -> int:
    base = os.environ.get("ANIMUS_BENCH_DIR") or None
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="animus-bench-cli-", dir=base) as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "ANIMUS_HOME": str(work / "home"),
            "PYTHONPYCACHEPREFIX": str(work / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        small, big = work / "small", work / "big"
        small.mkdir()
        big.mkdir()
        with ServiceHub(small, env=env) as hub:
            _fill_tasks(hub, 1000)
            _fill_queue(hub, 1000)
        started = time.perf_counter()
        with ServiceHub(big, env=env) as hub:
            _fill_tasks(hub, BIG)
            figures["fill_seconds_big"] = round(time.perf_counter() - started, 2)
            figures["subject_list_ready_50_in_process"] = _warm(
                lambda: hub.tasks.list(TaskFilter(status=("ready",), limit=50))
            )
        py = sys.executable
        animus = [py, "-m", "animus_cli"]
        figures["python_c_pass"] = _cold([py, "-c", "pass"], env)
        figures["animus_version"] = _cold([*animus, "--version"], env)
        figures["animus_help"] = _cold([*animus, "--help"], env)
        on_small = [*animus, "--json", "--project-root", str(small)]
        figures["json_subject_list_1k"] = _cold(
            [*on_small, "subject", "list", "--kind", "task"], env
        )
        figures["json_status_1k"] = _cold([*on_small, "status"], env)
        figures["json_queue_list_1k"] = _cold([*on_small, "queue", "list"], env)
        figures["json_queue_stats_1k"] = _cold([*on_small, "queue", "stats"], env)
        figures["subject_list_ready_50"] = _cold(
            [
                *animus,
                "--json",
                "--project-root",
                str(big),
                "subject",
                "list",
                "--kind",
                "task",
                "--status",
                "ready",
                "--limit",
                "50",
            ],
            env,
        )
    baseline = figures["python_c_pass"]["median_ms"]
    for name, figure in figures.items():
        if not isinstance(figure, dict):
            continue
        if name != "python_c_pass" and not name.endswith("in_process"):
            figure["ratio_to_python"] = round(figure["median_ms"] / baseline, 2)
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            figure["target_median_ms"] = target
            figure["meets_target"] = figure["median_ms"] <= target
            verdict = (
                f"  (target <= {target:g} ms: {'met' if figure['meets_target'] else 'NOT met'})"
            )
        ratio = f"  x{figure['ratio_to_python']}" if "ratio_to_python" in figure else ""
        print(
            f"{name:34s} median {figure['median_ms']:8.2f} ms  p95 {figure['p95_ms']:8.2f} ms"
            f"{ratio}{verdict}"
        )
    result = {
        "benchmark": "cli",
        "quick": QUICK,
        "tasks_big": BIG,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        # Cold starts scale with machine load: record it beside the figures.
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "figures": figures,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
