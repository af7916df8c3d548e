from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from animus_plugin_host import (
    PluginCallError,
    PluginExitedError,
    PluginProcess,
    RestartPolicy,
    Supervisor,
)

RAW = Path(__file__).parent / "fixtures" / "rawplugin.py"


def _spawner(mode: str, counter: list[int]):  # type: ignore[no-untyped-def]
    async def spawn() -> PluginProcess:
        counter.append(1)
        return await PluginProcess.start(
            [sys.executable, str(RAW), mode],
            name=f"raw-{mode}",
            env={"PATH": os.environ["PATH"]},
        )

    return spawn


def test_backoff_doubles_to_the_cap() -> None:
    policy = RestartPolicy()
    assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_structured_errors_do_not_spend_budget_and_deaths_retry_once() -> None:
    async def main() -> None:
        slept: list[float] = []

        async def no_sleep(seconds: float) -> None:
            slept.append(seconds)

        spawned: list[int] = []
        sup = Supervisor("raw-good", _spawner("good", spawned), sleep=no_sleep)
        with pytest.raises(PluginCallError):
            await sup.call("no/such/method")
        assert sup.attempts == 0
        assert len(spawned) == 1
        assert await sup.call("echo", {"x": 1}) == {"x": 1}

        # A death mid-call with no events seen: retried once on a restarted process.
        died: list[int] = []
        flaky = Supervisor("raw-die", _spawner("die_mid_call", died), sleep=no_sleep)
        with pytest.raises(PluginExitedError):
            await flaky.call("work", timeout=10)
        assert len(died) == 2  # the original and exactly one retry
        # With events already forwarded, no retry.
        with pytest.raises(PluginExitedError):
            await flaky.call("work", timeout=10, events_seen=lambda: True)
        assert len(died) == 3
        assert slept == [1, 2]
        await sup.stop()
        await flaky.stop()

    asyncio.run(main())


def test_a_healthy_window_resets_the_counter() -> None:
    async def main() -> None:
        now = [0.0]

        async def no_sleep(seconds: float) -> None:
            now[0] += seconds

        spawned: list[int] = []
        sup = Supervisor(
            "raw-die",
            _spawner("die_mid_call", spawned),
            RestartPolicy(healthy_window=10),
            sleep=no_sleep,
            clock=lambda: now[0],
        )
        for _ in range(3):
            proc = await sup.process()
            with pytest.raises(PluginExitedError):
                await proc.call("work")
        assert sup.attempts == 2
        now[0] += 100  # the current process has now been up longer than the window
        proc = await sup.process()  # notices the death, resets, restarts
        assert sup.attempts == 1
        assert sup.backoff_delays == [1, 2, 1]
        await sup.stop()

    asyncio.run(main())
