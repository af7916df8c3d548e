"""Orchestration overhead of the workflow runner (issue 5).

A three-phase workflow whose agents do nothing (the scripted mock provider answers an
``advance`` decision at once), on a warm provider process (one shared session host):
- end to end per run and per phase, for two shapes: ``bare`` (project root, no landing) and
  ``landed`` (managed worktree, commit checks per phase, merge into main, worktree cleanup);
- the same agent turn straight through ``SessionHost.run`` (what a phase cannot avoid), so
  the runner's own overhead per phase = (run time / 3) - one turn;
- what dominates: a cProfile of the bare runs, by time in fsync, SQLite, git subprocesses
  and the agent turn.
Prints one line per figure and saves ``bench/results/workflow.json``. ``ANIMUS_BENCH_QUICK=1``
runs a shorter version.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import platform
import pstats
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from animus_core.hub import ServiceHub
from animus_session_host import SessionHost
from animus_workflow_runner.engine import ExecuteRequest, WorkflowExecution
from animus_workflow_runner.testing import make_workflow_project

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
RESULTS = Path(__file__).resolve().parent / "results" / "workflow.json"
RUNS = 5 if QUICK else 30
PHASES = 3

YAML = """
agents:
  a: { tool: mock }
phases:
  p1: { mode: agent, agent: a, idempotency: idempotent }
  p2: { mode: agent, agent: a, idempotency: idempotent }
  p3: { mode: agent, agent: a, idempotency: idempotent }
workflows:
  - id: bare
    worktree: skip
    phases: [p1, p2, p3]
  - id: landed
    worktree: { mode: required }
    phases: [p1, p2, p3]
    post_success: { merge: { strategy: merge, target_branch: main } }
"""
SCRIPT = {"steps": [{"decision": {"verdict": "advance", "reason": "nothing to do"}}]}


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2),
        "min_ms": round(ordered[0] * 1000, 2),
    }


async def _runs(
    hub: ServiceHub, host: SessionHost, env: dict[str, str], ref: str, n: int
) -> list[float]:
    times: list[float] = []
    for i in range(n):
        task = hub.tasks.create(title=f"{ref} {i}", status="ready").id
        request = ExecuteRequest(
            project_root=hub.project_root,
            task_id=task,
            workflow_ref=ref,
            env=env,
            session_host=host,
        )
        started = time.perf_counter()
        execution = WorkflowExecution(hub, request)
        execution.prepare()
        outcome = await execution.execute()
        times.append(time.perf_counter() - started)
        assert outcome.status == "completed", outcome
    return times


async def _turns(host: SessionHost, cwd: Path, n: int) -> list[float]:
    times: list[float] = []

    async def ignore(_: Any) -> None:
        return None

    for _ in range(n):
        started = time.perf_counter()
        await host.run(
            "mock", {"prompt": "phase p1", "cwd": str(cwd), "mock_script": SCRIPT}, ignore
        )
        times.append(time.perf_counter() - started)
    return times


def _profile_breakdown(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile)
    buckets = {"fsync": 0.0, "sqlite": 0.0, "subprocess": 0.0, "json_files": 0.0}
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        tottime = row[2]
        if name in ("<built-in method posix.fsync>", "<built-in method posix.fdatasync>"):
            buckets["fsync"] += tottime
        elif "sqlite3" in name or "sqlite3" in filename:
            buckets["sqlite"] += tottime
        elif name in ("<built-in method _posixsubprocess.fork_exec>",) or "waitpid" in name:
            buckets["subprocess"] += tottime
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    return {k: round(v, 4) for k, v in buckets.items()} | {"profiled_total_s": round(total, 3)}


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        p = make_workflow_project(Path(tmp), YAML)
        for n in (1, 2, 3):
            p.script(f"{n}-p{n}", {"match": {"phase": f"p{n}"}, **SCRIPT})
        env = p.env
        os.environ.update({k: env[k] for k in ("ANIMUS_HOME", "ANIMUS_MOCK_SCRIPT_DIR")})
        hub = ServiceHub(p.root, env=env)
        host = SessionHost(project_root=p.root, env=env)
        try:
            await _runs(hub, host, env, "bare", 2)  # warm the provider, the DB, imports
            turns = await _turns(host, p.root, RUNS * PHASES)
            bare = await _runs(hub, host, env, "bare", RUNS)
            landed = await _runs(hub, host, env, "landed", max(3, RUNS // 3))
            profile = cProfile.Profile()
            profile.enable()
            profiled = await _runs(hub, host, env, "bare", max(3, RUNS // 3))
            profile.disable()
        finally:
            await host.aclose()
            hub.close()
    turn = statistics.median(turns)
    per_phase_bare = statistics.median(bare) / PHASES
    per_phase_landed = statistics.median(landed) / PHASES
    breakdown = _profile_breakdown(profile)
    runs_profiled = len(profiled)
    return {
        "bench": "workflow",
        "quick": QUICK,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "runs": RUNS,
        "agent_turn": _stats(turns),
        "bare_run": _stats(bare),
        "landed_run": _stats(landed),
        "bare_per_phase_ms": round(per_phase_bare * 1000, 2),
        "bare_overhead_per_phase_ms": round((per_phase_bare - turn) * 1000, 2),
        "landed_per_phase_ms": round(per_phase_landed * 1000, 2),
        "landed_overhead_per_phase_ms": round((per_phase_landed - turn) * 1000, 2),
        "target_per_phase_ms": 60,
        "profile_per_run_s": {k: round(v / runs_profiled, 4) for k, v in breakdown.items()},
    }


if __name__ == "__main__":
    result = asyncio.run(main())
    print(f"agent turn (mock, warm)            p50 {result['agent_turn']['p50_ms']} ms")
    print(f"bare 3-phase run                   p50 {result['bare_run']['p50_ms']} ms")
    print(
        f"  per phase {result['bare_per_phase_ms']} ms, runner overhead per phase "
        f"{result['bare_overhead_per_phase_ms']} ms (target <= 60)"
    )
    print(f"landed 3-phase run (worktree+merge) p50 {result['landed_run']['p50_ms']} ms")
    print(
        f"  per phase {result['landed_per_phase_ms']} ms, overhead per phase "
        f"{result['landed_overhead_per_phase_ms']} ms"
    )
    print("profile per bare run (s): " + json.dumps(result["profile_per_run_s"]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {RESULTS}")
