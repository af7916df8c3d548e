"""Benchmark for ``animus mcp serve``: tool-call round trips over a live stdio session.

Starts ``python -m animus_cli mcp serve`` for a temporary git project (private
``ANIMUS_HOME``) and drives it with the official SDK client. Measures the round trip of
``animus.subject.list`` (over a project holding 200 tasks, default page of 25) and of
``animus.queue.enqueue`` (a fresh custom subject each call: one SQLite transaction plus the
history row), plus the session start (spawn + initialize + tools/list). Prints p50/p95 and
saves ``bench/results/mcp.json``; ``ANIMUS_BENCH_QUICK=1`` runs fewer calls.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "mcp.json"
CALLS = 50 if QUICK else 500
TASKS = 200


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


async def _measure(params: StdioServerParameters) -> dict[str, Any]:
    started = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = (await session.list_tools()).tools
        startup = time.perf_counter() - started
        for n in range(TASKS):
            result = await session.call_tool("animus.subject.create", {"title": f"task {n}"})
            assert not result.is_error, result.content
        listing: list[float] = []
        for _ in range(CALLS):
            t0 = time.perf_counter()
            result = await session.call_tool("animus.subject.list", {})
            listing.append(time.perf_counter() - t0)
            assert not result.is_error, result.content
        enqueue: list[float] = []
        for n in range(CALLS):
            args = {"title": f"bench item {n}", "workflow_ref": "standard"}
            t0 = time.perf_counter()
            result = await session.call_tool("animus.queue.enqueue", args)
            enqueue.append(time.perf_counter() - t0)
            assert not result.is_error, result.content
    return {
        "tools": len(tools),
        "session_start_ms": round(startup * 1000, 1),
        "subject_list": _percentiles(listing),
        "queue_enqueue": _percentiles(enqueue),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        subprocess.run(["git", "init", "-q", str(project)], check=True)
        env = {**os.environ, "ANIMUS_HOME": str(Path(tmp) / "home")}
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "animus_cli", "--project-root", str(project), "mcp", "serve"],
            env=env,
        )
        figures = asyncio.run(_measure(params))
    result = {
        "benchmark": "mcp",
        "quick": QUICK,
        "calls": CALLS,
        "tasks_in_project": TASKS,
        "python": platform.python_version(),
        "load_average": os.getloadavg()[0],
        **figures,
    }
    print(
        f"animus mcp serve: {figures['tools']} tools, session start "
        f"{figures['session_start_ms']} ms"
    )
    for name in ("subject_list", "queue_enqueue"):
        f = figures[name]
        print(f"  {name:<14} p50 {f['p50_ms']:>8.3f} ms   p95 {f['p95_ms']:>8.3f} ms   n={f['n']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(ROOT.parent)}")


if __name__ == "__main__":
    main()
