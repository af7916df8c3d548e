"""Every misbehaving-plugin fixture against a real subprocess: the host stays up and the
error says what went wrong."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from animus_plugin_host import (
    HandshakeError,
    PluginCallError,
    PluginExitedError,
    PluginProcess,
    PluginTimeoutError,
    RestartBudgetExhaustedError,
    RestartPolicy,
    Supervisor,
)

RAW = Path(__file__).parent / "fixtures" / "rawplugin.py"


async def start(mode: str, handshake_timeout: float = 30.0) -> PluginProcess:
    return await PluginProcess.start(
        [sys.executable, str(RAW), mode],
        name=f"raw-{mode}",
        env={"PATH": os.environ["PATH"]},
        handshake_timeout=handshake_timeout,
    )


def test_good_plugin_handshakes_pings_and_echoes() -> None:
    async def main() -> None:
        proc = await start("good")
        assert proc.plugin_info["name"] == "animus-raw-good"
        await proc.ping()
        assert await proc.call("echo", {"a": [1, 2]}) == {"a": [1, 2]}
        with pytest.raises(PluginCallError) as info:
            await proc.call("nope/method")
        assert info.value.rpc_code == -32601
        assert info.value.category == "not_supported"
        assert await proc.shutdown() == "exited"

    asyncio.run(main())


def test_crash_at_start_is_a_handshake_error_with_exit_code_and_stderr() -> None:
    async def main() -> None:
        with pytest.raises(HandshakeError) as info:
            await start("crash_at_start")
        text = str(info.value)
        assert "exit code 3" in text
        assert "cannot open configuration" in text

    asyncio.run(main())


def test_never_answering_initialize_times_out_and_the_process_is_killed() -> None:
    async def main() -> None:
        with pytest.raises(HandshakeError, match=r"did not answer initialize within 0.5 s"):
            await start("no_initialize", handshake_timeout=0.5)

    asyncio.run(main())


def test_wrong_protocol_major_is_refused() -> None:
    async def main() -> None:
        with pytest.raises(HandshakeError, match=r"speaks protocol 2.0.0.*major versions differ"):
            await start("wrong_major")

    asyncio.run(main())


def test_garbage_and_half_frames_are_skipped_and_the_connection_survives() -> None:
    async def main() -> None:
        proc = await start("garbage")
        await proc.ping()
        assert await proc.call("echo", {"ok": True}) == {"ok": True}
        assert proc.frame_errors >= 3
        await proc.shutdown()

    asyncio.run(main())


def test_a_20_mib_frame_is_dropped_and_the_call_still_answers() -> None:
    async def main() -> None:
        proc = await start("good")
        sub = proc.subscribe()
        result = await proc.call("huge", timeout=60)
        assert result == {"sent": 20 * 1024 * 1024}
        assert proc.frame_errors == 1
        assert sub.pending() == 0  # the oversize notification never reached anyone
        await proc.ping()
        await proc.shutdown()

    asyncio.run(main())


def test_flood_of_100000_notifications_drops_the_slow_subscriber_only() -> None:
    async def main() -> None:
        proc = await start("good")
        assert proc.notification_capacity == 256
        slow = proc.subscribe()  # never read: must be dropped, never block the reader
        fast = proc.subscribe(capacity=200_000)
        received = 0

        async def consume() -> None:
            nonlocal received
            async for _note in fast:
                received += 1
                if received == 100_000:
                    return

        consumer = asyncio.create_task(consume())
        assert await proc.call("flood", {"count": 100_000}, timeout=120) == {"sent": 100_000}
        await proc.ping()  # still responsive
        await asyncio.wait_for(consumer, 60)
        assert received == 100_000
        assert slow.dropped
        assert slow.closed_reason is not None
        assert "buffer of 256" in slow.closed_reason
        assert proc.dropped_subscribers == [slow.closed_reason]
        assert slow.pending() == 256  # what it had buffered is still there to read
        assert proc.notifications_received == 100_000
        await proc.shutdown()

    asyncio.run(main())


def test_out_of_order_answers_reach_the_right_callers_and_strays_are_discarded() -> None:
    async def main() -> None:
        proc = await start("good")
        results = await asyncio.gather(*(proc.call("slow/echo", {"n": n}) for n in range(3)))
        assert results == [{"n": 0}, {"n": 1}, {"n": 2}]
        await proc.ping()
        assert proc.unknown_responses == 1
        await proc.shutdown()

    asyncio.run(main())


def test_hang_on_shutdown_ends_with_sigkill() -> None:
    async def main() -> None:
        proc = await start("hang_shutdown")
        outcome = await proc.shutdown(timeout=0.3, term_grace=0.3)
        assert outcome == "killed"
        assert not proc.alive
        with pytest.raises(ProcessLookupError):
            os.kill(proc.pid, 0)

    asyncio.run(main())


def test_death_mid_call_fails_the_pending_call_clearly() -> None:
    async def main() -> None:
        proc = await start("die_mid_call")
        other = asyncio.create_task(proc.call("slow/echo", {"n": 1}))
        with pytest.raises(PluginExitedError) as info:
            await proc.call("work", timeout=10)
        err = info.value
        assert err.process_exit_code == 7
        assert "exit code 7" in str(err)
        assert "lost my mind mid-call" in err.stderr_tail
        assert err.retryable
        with pytest.raises(PluginExitedError):
            await other  # every pending call fails, not just the one in flight
        with pytest.raises(PluginExitedError, match=r"exited \(exit code 7\)"):
            await proc.call("echo", {})

    asyncio.run(main())


def test_call_timeout_is_minus_32003_and_the_plugin_stays_usable() -> None:
    async def main() -> None:
        proc = await start("good")
        with pytest.raises(PluginTimeoutError) as info:
            await proc.call("work", {"seconds": 1.0}, timeout=0.1)
        assert info.value.rpc_code == -32003
        assert info.value.retryable
        assert await proc.call("echo", 5) == 5
        await proc.shutdown()

    asyncio.run(main())


def test_dies_repeatedly_budget_stops_restarts_and_says_so() -> None:
    async def main() -> None:
        slept: list[float] = []

        async def no_sleep(seconds: float) -> None:
            slept.append(seconds)

        async def spawn() -> PluginProcess:
            return await start("crash_at_start")

        sup = Supervisor("raw-crash", spawn, RestartPolicy(), sleep=no_sleep)
        with pytest.raises(RestartBudgetExhaustedError) as info:
            await sup.process()
        assert slept == [1, 2, 4, 8, 16]
        assert sup.state == "exhausted"
        message = str(info.value)
        assert "restart budget exhausted after 5 restart attempts" in message
        assert "exit code 3" in message
        # Later uses say the same thing without spawning again.
        with pytest.raises(RestartBudgetExhaustedError, match="budget exhausted"):
            await sup.process()
        assert slept == [1, 2, 4, 8, 16]

    asyncio.run(main())
