"""``workflow/*`` and ``agent/*`` control methods."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from animus_plugin_protocol import Actor
from animus_protocol._aliased_enum import AliasedEnum
from animus_protocol._wire import WireRequest
from animus_protocol.statuses import WorkflowStatus
from animus_protocol.timeutil import Timestamp

__all__ = [
    "AgentCancelParams",
    "AgentLifecycle",
    "AgentRunParams",
    "AgentRunResult",
    "AgentStatusParams",
    "AgentStatusResponse",
    "AgentUsage",
    "ControlWorkflowStatus",
    "WorkflowCancelParams",
    "WorkflowEventsParams",
    "WorkflowExecuteParams",
    "WorkflowGetResult",
    "WorkflowIdParams",
    "WorkflowListParams",
    "WorkflowListResult",
    "WorkflowResumeParams",
    "WorkflowRunParams",
    "WorkflowRunSummary",
    "WorkflowStarted",
]


class ControlWorkflowStatus(AliasedEnum):
    """Run status on the control wire (kebab; no ``escalated``: it travels as ``paused``)."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def from_workflow_status(cls, status: WorkflowStatus | str) -> ControlWorkflowStatus:
        parsed = WorkflowStatus.parse(status)
        if parsed is WorkflowStatus.ESCALATED:
            return cls.PAUSED
        return cls(parsed.value)


class WorkflowListParams(WireRequest):
    status: ControlWorkflowStatus | None = None
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=1)


class WorkflowRunSummary(WireRequest):
    id: str
    definition: str
    status: ControlWorkflowStatus
    subject_id: str | None = None
    started_at: Timestamp
    finished_at: Timestamp | None = None


class WorkflowListResult(WireRequest):
    runs: list[WorkflowRunSummary] = Field(default_factory=list)
    next_cursor: str | None = None


class WorkflowIdParams(WireRequest):
    """``workflow/get`` and ``workflow/pause``."""

    id: str = Field(min_length=1)


class WorkflowGetResult(WorkflowRunSummary):
    """The summary fields flattened, plus the full run record as ``detail``."""

    detail: Any = None


class WorkflowRunParams(WireRequest):
    task_id: str = Field(min_length=1)
    definition: str | None = None
    params: dict[str, Any] | None = None
    actor: Actor | None = None


class WorkflowExecuteParams(WireRequest):
    definition: str = Field(min_length=1)
    params: dict[str, Any] | None = None
    subject_id: str | None = None
    actor: Actor | None = None


class WorkflowStarted(WireRequest):
    """Result of ``workflow/run`` and ``workflow/execute``."""

    workflow_id: str
    status: ControlWorkflowStatus
    started_at: Timestamp


class WorkflowResumeParams(WireRequest):
    id: str = Field(min_length=1)
    feedback: str | None = None


class WorkflowCancelParams(WireRequest):
    id: str = Field(min_length=1)
    reason: str | None = None


class WorkflowEventsParams(WireRequest):
    workflow_id: str | None = None
    kinds: list[str] | None = None


class AgentLifecycle(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class AgentRunParams(WireRequest):
    provider: str = Field(min_length=1)
    model: str = Field(min_length=1)
    prompt: str
    system: str | None = None
    cwd: str | None = None
    env: dict[str, str] | None = None


class AgentUsage(WireRequest):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_micro_usd: int | None = None


class AgentRunResult(WireRequest):
    session_id: str
    model: str
    output: str
    usage: AgentUsage | None = None


class AgentStatusParams(WireRequest):
    id: str = Field(min_length=1)


class AgentStatusResponse(WireRequest):
    session_id: str
    status: AgentLifecycle
    provider: str
    model: str
    started_at: Timestamp
    finished_at: Timestamp | None = None
    last_error: str | None = None


class AgentCancelParams(WireRequest):
    session_id: str = Field(min_length=1)
