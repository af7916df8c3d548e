"""Schedules, active hours, the event bus, process identity."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from animus_daemon_runtime._proc import process_start_time, same_process_alive
from animus_daemon_runtime.bus import EventBus
from animus_daemon_runtime.metrics import Metrics, metric_key
from animus_daemon_runtime.schedules import ScheduleBook, in_active_hours, next_cron_time


@dataclass
class Sched:
    id: str
    cron: str
    workflow_ref: str = "standard"
    input: Any = None
    enabled: bool = True


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_cron_next_time_is_utc_and_strictly_after() -> None:
    base = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert next_cron_time("*/15 * * * *", base) == datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    assert next_cron_time("0 9 * * 1", base).weekday() == 0
    with pytest.raises(ValueError, match="5 fields"):
        next_cron_time("* * * * * *", base)


def test_schedule_is_forward_only_fires_once_and_persists(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 1, 1, 10, 7, tzinfo=UTC))
    path = tmp_path / "state" / "schedule-state.json"
    book = ScheduleBook(path, clock)
    s = Sched("nightly", "*/15 * * * *")
    assert book.due([s]) == []  # first sight: the next deadline, never the past
    assert book.state["nightly"]["next_run"] == "2026-01-01T10:15:00.000000Z"
    clock.now = datetime(2026, 1, 1, 10, 14, tzinfo=UTC)
    assert book.due([s]) == []
    clock.now = datetime(2026, 1, 1, 10, 16, tzinfo=UTC)
    (due,) = book.due([s])
    assert due.fire_time == datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    book.record_dispatch("nightly", due.fire_time, "wf-1")
    assert book.due([s]) == []
    reloaded = json.loads(path.read_text())["schedules"]["nightly"]
    assert (reloaded["run_count"], reloaded["last_run"]) == (1, "2026-01-01T10:15:00.000000Z")
    assert ScheduleBook(path, clock).next_deadline() == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)


def test_deadlines_older_than_the_catch_up_horizon_are_missed(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 1, 1, 10, 0, tzinfo=UTC))
    book = ScheduleBook(tmp_path / "s.json", clock)
    s = Sched("q", "*/5 * * * *")
    book.due([s])
    clock.now += timedelta(hours=1, seconds=30)  # the daemon was down for an hour
    fired = book.due([s])
    assert len(fired) == 1  # one catch-up fire within 10 minutes, not twelve
    assert book.state["q"]["missed_count"] == 11
    assert book.state["q"]["next_run"] == "2026-01-01T11:05:00.000000Z"


def test_disabled_schedule_and_corrupt_state_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json")
    book = ScheduleBook(path, Clock(datetime(2026, 1, 1, tzinfo=UTC)))
    assert book.state == {}
    assert (tmp_path / "s.corrupt.json").read_text() == "{not json"  # kept aside
    assert book.due([Sched("off", "* * * * *", enabled=False)]) == []


@pytest.mark.parametrize(
    ("window", "hour", "minute", "inside"),
    [
        (None, 3, 0, True),
        ("09:00-18:00", 9, 0, True),
        ("09:00-18:00", 17, 59, True),
        ("09:00-18:00", 18, 0, False),
        ("22:00-06:00", 23, 30, True),
        ("22:00-06:00", 5, 59, True),
        ("22:00-06:00", 12, 0, False),
    ],
)
def test_active_hours(window: str | None, hour: int, minute: int, inside: bool) -> None:
    assert in_active_hours(window, datetime(2026, 1, 1, hour, minute, tzinfo=UTC)) is inside


def test_bus_closes_a_lagging_subscriber_without_touching_others() -> None:
    async def scenario() -> None:
        bus = EventBus(capacity=3)
        slow = bus.subscribe("t")
        picky = bus.subscribe("t", lambda item: item % 2 == 0)
        fast = bus.subscribe("t", capacity=100)
        for i in range(10):
            bus.publish("t", i)
        assert slow.closed_reason == "buffer_full_lagged"
        assert await slow.next() is None  # a lagged stream is cut, its backlog dropped
        assert picky.closed_reason == "buffer_full_lagged"  # 0, 2, 4 filled it at 6
        got = [await fast.next() for _ in range(10)]
        assert got == list(range(10))
        assert bus.subscriber_count("t") == 1
        bus.close_all("daemon_shutdown")
        assert await fast.next() is None
        assert fast.closed_reason == "daemon_shutdown"

    asyncio.run(scenario())


def test_metrics_keys_and_snapshot() -> None:
    m = Metrics()
    m.inc("workflow_runs_total", status="completed")
    m.inc("workflow_runs_total", status="completed")
    m.set("active_runs", 3)
    snap = m.snapshot()
    assert snap["counters"] == {"workflow_runs_total{status=completed}": 2}
    assert snap["gauges"]["active_runs"] == 3
    assert "daemon_uptime_seconds" in snap["gauges"]
    assert metric_key("x", b="2", a="1") == "x{a=1,b=2}"


def test_process_identity_detects_dead_and_reused_pids() -> None:
    me = os.getpid()
    start = process_start_time(me)
    assert start is not None
    assert same_process_alive(me, start)
    assert not same_process_alive(me, str(int(start) + 12345))  # pid reused by another process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not same_process_alive(child.pid, None)
    assert not same_process_alive(0, None)
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    import time

    deadline = time.monotonic() + 10
    while process_start_time(zombie.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process_start_time(zombie.pid) is None  # exited, not yet reaped: a zombie is gone
    zombie.wait()
