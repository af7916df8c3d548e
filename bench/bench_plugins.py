"""Benchmarks for plugin hosting and sessions (issue 4).

Figures: ``$/ping`` round trip through :class:`PluginProcess` against the mock provider
(target p50 <= 150 us), host-side notification throughput with one subscriber (target
>= 50,000 notifications/s), session start on a cold vs a warm provider process, and how
long ``SessionHost.cancel`` takes to end a running session. Prints one line per figure and
saves ``bench/results/plugins.json``. ``ANIMUS_BENCH_QUICK=1`` runs a shorter version.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animus_plugin_host import PluginProcess, build_plugin_env
from animus_session_host import SessionCancelledError, SessionEvent, SessionHost

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "plugins.json"
PINGS = 500 if QUICK else 5_000
NOTIFICATIONS = 20_000 if QUICK else 100_000
SESSIONS = 3 if QUICK else 10
MOCK = (sys.executable, "-m", "animus_provider_mock")

# A stdlib-only plugin that answers the handshake and ``$/ping`` with a blocking loop, and
# writes N pre-rendered notifications as fast as it can: figures against it measure the
# host's own overhead (reader, futures, fan-out) rather than a plugin runtime's.
FLOOD_PLUGIN = r"""
import json, sys
out = sys.stdout.buffer
for raw in sys.stdin.buffer:
    msg = json.loads(raw)
    rid, method = msg.get("id"), msg.get("method")
    if method == "initialize":
        result = {"protocol_version": "1.1.0", "plugin_info": {"name": "animus-flood",
                  "version": "0", "plugin_kind": "custom"}, "capabilities": {"methods": []}}
        out.write(json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode() + b"\n")
        out.flush()
    elif method == "flood":
        n = msg["params"]["count"]
        line = (b'{"jsonrpc":"2.0","method":"agent/output",'
                b'"params":{"session_id":"s","text":"tok","final":false}}\n')
        block = line * 1000
        for _ in range(n // 1000):
            out.write(block)
        out.write(json.dumps({"jsonrpc": "2.0", "id": rid, "result": {}}).encode() + b"\n")
        out.flush()
    elif method == "shutdown" or method == "$/ping":
        out.write(json.dumps({"jsonrpc": "2.0", "id": rid, "result": {}}).encode() + b"\n")
        out.flush()
    elif method == "exit":
        break
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench_ping(command: tuple[str, ...]) -> dict[str, float]:
    proc = await PluginProcess.start(command, name=Path(command[-1]).name, env=build_plugin_env())
    try:
        for _ in range(50):  # warm-up
            await proc.call("$/ping", {})
        samples = []
        for _ in range(PINGS):
            started = time.perf_counter()
            await proc.call("$/ping", {})
            samples.append((time.perf_counter() - started) * 1e6)
    finally:
        await proc.shutdown()
    return {
        "pings": PINGS,
        "p50_us": round(statistics.median(samples), 1),
        "p90_us": round(pct(samples, 0.9), 1),
        "p99_us": round(pct(samples, 0.99), 1),
    }


async def bench_notifications(script: Path) -> dict[str, float]:
    proc = await PluginProcess.start(
        (sys.executable, str(script)), name="animus-flood", env=build_plugin_env()
    )
    try:
        sub = proc.subscribe(capacity=NOTIFICATIONS + 10)
        received = 0

        async def consume() -> None:
            nonlocal received
            async for _note in sub:
                received += 1
                if received == NOTIFICATIONS:
                    return

        consumer = asyncio.create_task(consume())
        started = time.perf_counter()
        await proc.call("flood", {"count": NOTIFICATIONS}, timeout=120)
        await consumer
        elapsed = time.perf_counter() - started
    finally:
        await proc.shutdown()
    return {
        "notifications": NOTIFICATIONS,
        "seconds": round(elapsed, 4),
        "per_second": round(NOTIFICATIONS / elapsed),
    }


def _setter(event: asyncio.Event) -> Callable[[SessionEvent], None]:
    return lambda _e: event.set()


async def bench_sessions(cwd: Path, home: Path) -> dict[str, float]:
    env = dict(os.environ, ANIMUS_HOME=str(home))
    request = {"prompt": "bench", "cwd": str(cwd), "mock_script": [{"text": "ok"}]}
    cold: list[float] = []
    warm: list[float] = []
    cancel: list[float] = []
    for _ in range(SESSIONS):
        host = SessionHost(project_root=cwd, env=env)
        host.resolve("mock")  # discovery is not part of session start
        try:
            started = time.perf_counter()
            await host.run("mock", request)
            cold.append((time.perf_counter() - started) * 1000)
            for _ in range(3):
                started = time.perf_counter()
                await host.run("mock", request)
                warm.append((time.perf_counter() - started) * 1000)
            began = asyncio.Event()
            sleeping = {
                "prompt": "p",
                "cwd": str(cwd),
                "session_id": "bench-cancel",
                "mock_script": [{"text": "go"}, {"sleep": 60}],
            }
            task = asyncio.create_task(host.run("mock", sleeping, _setter(began)))
            await began.wait()
            started = time.perf_counter()
            await host.cancel("bench-cancel")
            with contextlib.suppress(SessionCancelledError):  # expected: it was cancelled
                await task
            cancel.append((time.perf_counter() - started) * 1000)
        finally:
            await host.aclose()
    return {
        "sessions": SESSIONS,
        "cold_start_ms_p50": round(statistics.median(cold), 2),
        "warm_start_ms_p50": round(statistics.median(warm), 2),
        "cancel_ms_p50": round(statistics.median(cancel), 2),
        "cancel_ms_max": round(max(cancel), 2),
    }


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "flood.py"
        script.write_text(FLOOD_PLUGIN)
        cwd = Path(tmp) / "proj"
        cwd.mkdir()
        ping = await bench_ping(MOCK)
        print(
            f"$/ping round trip (mock provider on the author runtime): p50 {ping['p50_us']} "
            f"us, p90 {ping['p90_us']} us, p99 {ping['p99_us']} us over {PINGS} pings "
            "(target p50 <= 150 us)"
        )
        ping_raw = await bench_ping((sys.executable, str(script)))
        print(
            f"$/ping round trip (stdlib loop plugin: host overhead): p50 {ping_raw['p50_us']} "
            f"us, p90 {ping_raw['p90_us']} us, p99 {ping_raw['p99_us']} us"
        )
        notes = await bench_notifications(script)
        print(
            f"notification throughput (host side): {notes['per_second']:,} /s over "
            f"{NOTIFICATIONS:,} (target >= 50,000 /s)"
        )
        sessions = await bench_sessions(cwd, Path(tmp) / "home")
        print(
            f"session start: cold {sessions['cold_start_ms_p50']} ms, warm "
            f"{sessions['warm_start_ms_p50']} ms (p50 over {SESSIONS} cold starts)"
        )
        print(
            f"cancel a running session: p50 {sessions['cancel_ms_p50']} ms, max "
            f"{sessions['cancel_ms_max']} ms (target < 1000 ms)"
        )
    return {
        "ping": ping,
        "ping_stdlib_plugin": ping_raw,
        "notifications": notes,
        "sessions": sessions,
    }


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
