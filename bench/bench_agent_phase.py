"""Benchmarks for one agent phase (issue 5, item 1).

Figures, all against the scripted mock provider on a warm (pooled) provider process:
- the agent runner's own overhead per phase: a phase run through ``AgentPhaseRunner``
  (events.jsonl, session file, prompt, decision, contract) minus the same script run
  through ``SessionHost.run`` directly;
- event recording throughput: a script of many text steps, every event redacted and
  appended to ``events.jsonl`` and handed to a callback;
- cancel latency: ``AgentPhaseRunner.cancel()`` to a ``cancelled`` result, mid-sleep;
- ``render_prompt`` for a full context.
Prints one line per figure and saves ``bench/results/agent_phase.json``.
``ANIMUS_BENCH_QUICK=1`` runs a shorter version.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from animus_agent_runner import (
    AgentPhaseRequest,
    AgentPhaseRunner,
    PriorPhaseOutput,
    PromptContext,
    ReworkFeedback,
    Skill,
    SubjectInfo,
    render_prompt,
)
from animus_protocol.paths import ScopePaths
from animus_session_host import SessionHost

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "agent_phase.json"
PHASES = 20 if QUICK else 100
EVENT_STEPS = 500 if QUICK else 5_000
CANCELS = 3 if QUICK else 10
RENDERS = 2_000 if QUICK else 20_000

SCRIPT: list[dict[str, Any]] = [
    {"text": "Working."},
    {"tool_call": {"name": "shell", "arguments": {"command": "true"}}},
    {"tool_result": {"name": "shell", "output": "", "success": True}},
    {"usage": {"input": 100, "output": 20}},
    {"decision": {"verdict": "advance", "confidence": 0.9, "risk": "low", "reason": "ok"}},
]


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1], 3),
        "max_ms": round(ordered[-1], 3),
    }


def _request(cwd: Path, n: int, script: list[dict[str, Any]], **kw: Any) -> AgentPhaseRequest:
    return AgentPhaseRequest(
        run_id=f"bench-{n}",
        phase_id="implement",
        cwd=cwd,
        prompt="bench",
        cli_tool="mock",
        extras={"mock_script": script},
        **kw,
    )


async def bench_overhead(host: SessionHost, runner: AgentPhaseRunner, cwd: Path) -> dict[str, Any]:
    raw: list[float] = []
    phased: list[float] = []
    wire = {"prompt": "bench", "cwd": str(cwd), "mock_script": SCRIPT}
    await host.run("mock", wire)  # warm the provider process
    for n in range(PHASES):
        started = time.perf_counter()
        await host.run("mock", wire)
        raw.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        result = await runner.run(_request(cwd, n, SCRIPT))
        phased.append((time.perf_counter() - started) * 1000)
        assert result.status == "completed", result.errors
    overhead = statistics.median(phased) - statistics.median(raw)
    return {
        "phases": PHASES,
        "session_only": _ms(raw),
        "agent_phase": _ms(phased),
        "runner_overhead_ms_p50": round(overhead, 3),
    }


async def bench_events(runner: AgentPhaseRunner, cwd: Path) -> dict[str, Any]:
    script: list[dict[str, Any]] = [{"text": f"token {i}"} for i in range(EVENT_STEPS)]
    seen = 0

    def count(_record: dict[str, Any]) -> None:
        nonlocal seen
        seen += 1

    started = time.perf_counter()
    result = await runner.run(_request(cwd, 999_999, script), on_event=count)
    elapsed = time.perf_counter() - started
    assert result.status == "completed", result.errors
    return {
        "events": seen,
        "seconds": round(elapsed, 3),
        "events_per_second": round(seen / elapsed),
    }


async def bench_cancel(host: SessionHost, scope: ScopePaths, cwd: Path) -> dict[str, Any]:
    samples: list[float] = []
    for n in range(CANCELS):
        runner = AgentPhaseRunner(host, scope)
        began = asyncio.Event()
        script: list[dict[str, Any]] = [{"text": "go"}, {"sleep": 60}]
        task = asyncio.ensure_future(
            runner.run(_request(cwd, 500_000 + n, script), on_event=lambda _r, ev=began: ev.set())
        )
        await began.wait()
        started = time.perf_counter()
        runner.cancel()
        result = await task
        samples.append((time.perf_counter() - started) * 1000)
        assert result.status == "cancelled", result.status
    return {"cancels": CANCELS, **_ms(samples)}


def bench_render() -> dict[str, Any]:
    ctx = PromptContext(
        phase_id="implement",
        subject=SubjectInfo(id="TASK-1", title="t", description="d" * 2000, labels=("a", "b")),
        directive="Implement it.",
        prior_outputs=tuple(PriorPhaseOutput(f"p{i}", "x" * 10_000) for i in range(5)),
        rework=ReworkFeedback("review", "not yet", 2, 3, ({"kind": "custom"},)),
        variables={f"k{i}": "v" for i in range(20)},
        skills=(Skill("tdd", "prefix", ("d1", "d2"), "suffix"),),
        decision_contract={"min_confidence": 0.8, "required_evidence": ["tests_passed"]},
    )
    started = time.perf_counter()
    for _ in range(RENDERS):
        render_prompt(ctx)
    per = (time.perf_counter() - started) / RENDERS * 1e6
    return {"renders": RENDERS, "us_per_render": round(per, 2), "chars": len(render_prompt(ctx))}


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp) / "proj"
        cwd.mkdir()
        env = dict(os.environ, ANIMUS_HOME=str(Path(tmp) / "home"))
        scope = ScopePaths.for_project(cwd, env)
        host = SessionHost(project_root=cwd, env=env)
        runner = AgentPhaseRunner(host, scope)
        try:
            overhead = await bench_overhead(host, runner, cwd)
            print(
                f"agent phase (warm mock provider): p50 {overhead['agent_phase']['p50_ms']} ms; "
                f"the session alone {overhead['session_only']['p50_ms']} ms; runner overhead "
                f"{overhead['runner_overhead_ms_p50']} ms per phase over {PHASES} phases"
            )
            events = await bench_events(runner, cwd)
            print(
                f"event recording: {events['events_per_second']:,} events/s "
                f"({events['events']:,} events, redacted, appended and forwarded)"
            )
            cancel = await bench_cancel(host, scope, cwd)
            print(
                f"cancel mid-sleep to a cancelled result: p50 {cancel['p50_ms']} ms, "
                f"max {cancel['max_ms']} ms over {CANCELS}"
            )
        finally:
            await host.aclose()
    render = bench_render()
    print(f"render_prompt (full context, {render['chars']:,} chars): {render['us_per_render']} us")
    return {"overhead": overhead, "events": events, "cancel": cancel, "render": render}


if __name__ == "__main__":
    figures = asyncio.run(main())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "quick": QUICK,
                "python": platform.python_version(),
                "machine": platform.machine(),
                **figures,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {RESULTS.relative_to(ROOT.parent)}")
