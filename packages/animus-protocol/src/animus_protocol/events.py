"""Execution facts and event records (spec §5.6).

The runner's ``PhaseEvent`` union (``started | decision | completed``) is the
``animus-plugin-protocol`` model re-exported; ``DaemonEventRecord`` refines the notifier's
wire model with a fixed schema id and a normalised timestamp and stays an instance of it
(so the timestamp stays a string: the canonical RFC 3339 form, ``timestamp_dt`` parses it).

Tagged unions (``PhaseEvent`` by ``kind``, ``AgentRunEvent`` by ``type``) come with a
``TypeAdapter`` so callers can validate one JSON line without knowing its variant:
``PHASE_EVENT_ADAPTER.validate_json(line)``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from animus_plugin_protocol import DaemonEventRecord as _WireDaemonEventRecord
from animus_plugin_protocol import (
    PhaseCompletedEvent,
    PhaseDecisionEvent,
    PhaseEvent,
    PhaseStartedEvent,
)
from animus_protocol._wire import WireModel
from animus_protocol.statuses import WorkflowStatus
from animus_protocol.timeutil import (
    Timestamp,
    TimestampStr,
    parse_rfc3339,
    utc_now,
    utc_now_str,
)

__all__ = [
    "AGENT_RUN_EVENT_ADAPTER",
    "DAEMON_EVENT_SCHEMA",
    "PHASE_EVENT_ADAPTER",
    "AgentRunArtifact",
    "AgentRunError",
    "AgentRunEvent",
    "AgentRunFinished",
    "AgentRunMetadata",
    "AgentRunOutput",
    "AgentRunStarted",
    "AgentRunThinking",
    "AgentRunToolCall",
    "AgentRunToolResult",
    "DaemonEventRecord",
    "PhaseCompletedEvent",
    "PhaseDecisionEvent",
    "PhaseEvent",
    "PhaseStartedEvent",
    "RunnerEvent",
    "StreamType",
    "SubjectExecutionFact",
    "WorkflowEvent",
    "WorkflowEventKind",
]

DAEMON_EVENT_SCHEMA: Literal["animus.daemon-event.v1"] = "animus.daemon-event.v1"


class RunnerEvent(WireModel):
    """One line a workflow runner reported about a subject's run."""

    event: str
    task_id: str = ""
    workflow_id: str | None = None
    workflow_ref: str | None = None
    workflow_status: WorkflowStatus | None = None
    exit_code: int | None = None


class SubjectExecutionFact(WireModel):
    """What happened to a subject's run; projectors turn these into status changes."""

    subject_id: str
    subject_kind: str | None = None
    task_id: str | None = None
    workflow_id: str | None = None
    workflow_ref: str | None = None
    workflow_status: WorkflowStatus | None = None
    schedule_id: str | None = None
    exit_code: int | None = None
    success: bool
    failure_reason: str | None = None
    runner_events: list[RunnerEvent] = Field(default_factory=list)


PHASE_EVENT_ADAPTER: TypeAdapter[PhaseEvent] = TypeAdapter(PhaseEvent)


class WorkflowEventKind(StrEnum):
    PHASE_STARTED = "phase_started"
    PHASE_COMPLETED = "phase_completed"
    PHASE_FAILED = "phase_failed"
    WORKFLOW_COMPLETED = "workflow_completed"
    WORKFLOW_FAILED = "workflow_failed"
    CONFIG_RELOADED = "config_reloaded"
    CONFIG_RELOAD_FAILED = "config_reload_failed"


class WorkflowEvent(WireModel):
    """A run-level event as streamed by ``workflow/events``; unknown kinds are kept."""

    workflow_id: str
    kind: WorkflowEventKind | str = Field(union_mode="left_to_right")
    payload: Any = Field(default_factory=dict)
    occurred_at: Timestamp = Field(default_factory=utc_now)


class DaemonEventRecord(_WireDaemonEventRecord):
    """One line of the daemon's event log (``animus.daemon-event.v1``)."""

    model_config = ConfigDict(validate_assignment=True)

    schema_: Literal["animus.daemon-event.v1"] = Field(default=DAEMON_EVENT_SCHEMA, alias="schema")
    timestamp: TimestampStr = Field(default_factory=utc_now_str)
    data: Any = Field(default_factory=dict)

    @property
    def timestamp_dt(self) -> datetime:
        return parse_rfc3339(self.timestamp)


class StreamType(StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"
    SYSTEM = "system"


class _AgentEventBase(WireModel):
    run_id: str | None = None
    ts: Timestamp = Field(default_factory=utc_now)


class AgentRunStarted(_AgentEventBase):
    type: Literal["started"] = "started"
    tool: str | None = None
    model: str | None = None
    pid: int | None = None


class AgentRunOutput(_AgentEventBase):
    type: Literal["output_chunk"] = "output_chunk"
    stream_type: StreamType = StreamType.STDOUT
    text: str


class AgentRunMetadata(_AgentEventBase):
    type: Literal["metadata"] = "metadata"
    cost: float | None = None
    tokens: dict[str, int] | None = None


class AgentRunError(_AgentEventBase):
    type: Literal["error"] = "error"
    message: str
    recoverable: bool = False


class AgentRunFinished(_AgentEventBase):
    type: Literal["finished"] = "finished"
    exit_code: int | None = None
    duration_ms: int = 0


class AgentRunToolCall(_AgentEventBase):
    type: Literal["tool_call"] = "tool_call"
    name: str
    arguments: Any = None
    server: str | None = None


class AgentRunToolResult(_AgentEventBase):
    type: Literal["tool_result"] = "tool_result"
    name: str
    output: Any = None
    success: bool = True


class AgentRunArtifact(_AgentEventBase):
    type: Literal["artifact"] = "artifact"
    path: str
    kind: str | None = None
    size_bytes: int | None = None


class AgentRunThinking(_AgentEventBase):
    type: Literal["thinking"] = "thinking"
    text: str


AgentRunEvent = Annotated[
    AgentRunStarted
    | AgentRunOutput
    | AgentRunMetadata
    | AgentRunError
    | AgentRunFinished
    | AgentRunToolCall
    | AgentRunToolResult
    | AgentRunArtifact
    | AgentRunThinking,
    Field(discriminator="type"),
]
AGENT_RUN_EVENT_ADAPTER: TypeAdapter[AgentRunEvent] = TypeAdapter(AgentRunEvent)
