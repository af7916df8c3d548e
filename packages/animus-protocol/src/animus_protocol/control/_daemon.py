"""``daemon/*`` control methods: status, health, lifecycle, agents, events, logs, metrics."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from animus_protocol._wire import WireRequest
from animus_protocol.statuses import DaemonStatus
from animus_protocol.timeutil import Timestamp, utc_now

__all__ = [
    "AgentInfo",
    "ControlCapabilities",
    "DaemonAgentsResult",
    "DaemonEventsParams",
    "DaemonHealthResponse",
    "DaemonLogsParams",
    "DaemonMetricsSnapshot",
    "DaemonNudgeParams",
    "DaemonPauseResult",
    "DaemonRunEvent",
    "DaemonStatusResponse",
    "HealthState",
    "PluginHealth",
]


class HealthState(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    DOWN = "down"


class ControlCapabilities(WireRequest):
    """Methods this daemon serves (advertised in ``daemon/status``)."""

    methods: list[str] = Field(default_factory=list)


class DaemonStatusResponse(WireRequest):
    """``daemon/status``. ``status``, ``runtime_paused`` and ``capabilities`` are additions
    of this implementation (optional, so older clients ignore them)."""

    running: bool
    pid: int | None = None
    uptime_seconds: float | None = None
    version: str | None = None
    project_root: str | None = None
    log_path: str | None = None
    status: DaemonStatus | None = None
    runtime_paused: bool | None = None
    capabilities: ControlCapabilities | None = None


class PluginHealth(WireRequest):
    name: str
    kind: str
    status: str
    uptime_ms: int | None = None
    last_error: str | None = None


class DaemonHealthResponse(WireRequest):
    status: HealthState
    plugins: list[PluginHealth] | None = None
    last_error: str | None = None


class AgentInfo(WireRequest):
    session_id: str
    provider: str
    model: str
    workflow_id: str | None = None
    phase_id: str | None = None
    started_at: Timestamp


class DaemonAgentsResult(WireRequest):
    agents: list[AgentInfo] = Field(default_factory=list)


class DaemonEventsParams(WireRequest):
    """``since``: replay events after this event id (or RFC 3339 time) before following."""

    since: str | None = None


class DaemonRunEvent(WireRequest):
    """One ``daemon/event`` stream item."""

    id: str
    occurred_at: Timestamp = Field(default_factory=utc_now)
    kind: str
    payload: Any = Field(default_factory=dict)


class DaemonLogsParams(WireRequest):
    since: str | None = None
    level: str | None = None
    plugin: str | None = None
    follow: bool = False


class DaemonNudgeParams(WireRequest):
    """``daemon/nudge`` (fire-and-forget wake-up); ``reason`` is for the event log only."""

    reason: str | None = None


class DaemonPauseResult(WireRequest):
    """``daemon/pause`` and ``daemon/resume``: scheduling only, running work continues."""

    runtime_paused: bool
    paused_at: Timestamp | None = None


class DaemonMetricsSnapshot(WireRequest):
    counters: dict[str, float] = Field(default_factory=dict)
    gauges: dict[str, float] = Field(default_factory=dict)
    histograms: dict[str, Any] = Field(default_factory=dict)
    captured_at: Timestamp = Field(default_factory=utc_now)
    uptime_seconds: float = 0.0
