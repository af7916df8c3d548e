"""The ``daemon/metrics`` snapshot: labelled counters and gauges kept in memory."""

from __future__ import annotations

import time
from typing import Any

from animus_protocol.timeutil import utc_now

__all__ = ["Metrics", "metric_key"]


def metric_key(name: str, **labels: str) -> str:
    """``name{label=value,...}`` with labels sorted, or ``name`` without labels."""
    if not labels:
        return name
    inner = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


class Metrics:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.counters: dict[str, float] = {}
        self.gauges: dict[str, float] = {}

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        key = metric_key(name, **labels)
        self.counters[key] = self.counters.get(key, 0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        self.gauges[metric_key(name, **labels)] = value

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started

    def snapshot(self) -> dict[str, Any]:
        uptime = round(self.uptime_seconds, 3)
        gauges = dict(self.gauges)
        gauges["daemon_uptime_seconds"] = uptime
        return {
            "counters": dict(self.counters),
            "gauges": gauges,
            "histograms": {},
            "captured_at": utc_now().isoformat().replace("+00:00", "Z"),
            "uptime_seconds": uptime,
        }
