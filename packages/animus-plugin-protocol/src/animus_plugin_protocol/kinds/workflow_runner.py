"""workflow_runner kind (protocol 0.2.0): ``workflow/execute``, ``workflow/run_phase``
(reference §2.7)."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from animus_plugin_protocol._wire import WireModel

from .subject import SubjectDispatch, SubjectRef

__all__ = [
    "WORKFLOW_RUNNER_CRATE_VERSION",
    "Actor",
    "PhaseCompletedEvent",
    "PhaseDecisionEvent",
    "PhaseEvent",
    "PhaseResult",
    "PhaseStartedEvent",
    "PhaseStatus",
    "RunPhaseRequest",
    "RunPhaseResult",
    "WorkflowExecuteRequest",
    "WorkflowExecuteResult",
    "WorkflowRunnerCapabilities",
    "WorkflowRunnerErrorCode",
    "WorkflowStatus",
]

WORKFLOW_RUNNER_CRATE_VERSION = "0.2.0"


class WorkflowRunnerErrorCode(IntEnum):
    WORKFLOW_NOT_FOUND = -32101
    PHASE_NOT_FOUND = -32102
    WORKFLOW_TERMINAL = -32103
    PROJECT_BINDING_MISMATCH = -32104
    MANUAL_GATE_PENDING = -32105
    DECISION_CONTRACT_INVALID = -32106


class WorkflowStatus(StrEnum):
    COMPLETED = "completed"
    RUNNING = "running"
    PAUSED = "paused"
    PENDING = "pending"
    FAILED = "failed"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


class PhaseStatus(StrEnum):
    COMPLETED = "completed"
    REWORK = "rework"
    CLOSED = "closed"
    FAILED = "failed"
    MANUAL_PENDING = "manual_pending"


class Actor(WireModel):
    user_id: str
    claims: list[str] | None = None
    tenant_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in (self.claims or [])


class WorkflowExecuteRequest(WireModel):
    workflow_id: str | None = None
    subject_dispatch: SubjectDispatch | None = None
    subject_ref: SubjectRef | None = None
    task_id: str | None = None
    requirement_id: str | None = None
    title: str | None = None
    description: str | None = None
    workflow_ref: str | None = None
    input: Any = None
    vars: dict[str, str] | None = None
    model: str | None = None
    tool: str | None = None
    phase_timeout_secs: int | None = Field(default=None, ge=0)
    phase_filter: Any = None
    phase_routing: Any = None
    mcp_config: Any = None
    actor: Actor | None = None


class PhaseResult(WireModel):
    phase_id: str
    status: PhaseStatus
    duration_secs: float = Field(ge=0)
    outcome: Any = None
    metadata: Any = None
    next_phase_id: str | None = None
    close_reason: str | None = None


class PhaseStartedEvent(WireModel):
    kind: Literal["started"] = "started"
    phase_id: str
    attempt: int = Field(ge=0)
    ts: str


class PhaseDecisionEvent(WireModel):
    kind: Literal["decision"] = "decision"
    phase_id: str
    verdict: str
    confidence: float | None = None
    ts: str


class PhaseCompletedEvent(WireModel):
    kind: Literal["completed"] = "completed"
    phase_id: str
    status: PhaseStatus
    ts: str


PhaseEvent = Annotated[
    PhaseStartedEvent | PhaseDecisionEvent | PhaseCompletedEvent, Field(discriminator="kind")
]


class WorkflowExecuteResult(WireModel):
    workflow_id: str
    workflow_ref: str
    workflow_status: WorkflowStatus
    subject_id: str | None = None
    execution_cwd: str | None = None
    phases_requested: list[str] = Field(default_factory=list)
    phases_completed: int = Field(default=0, ge=0)
    phases_total: int = Field(default=0, ge=0)
    total_duration_secs: float = Field(default=0, ge=0)
    phase_results: list[PhaseResult] = Field(default_factory=list)
    post_success: Any = None
    success: bool
    phase_events: list[PhaseEvent] = Field(default_factory=list)


class RunPhaseRequest(WireModel):
    execution_cwd: str
    workflow_id: str
    workflow_ref: str
    subject_id: str
    subject_title: str
    subject_description: str
    phase_id: str
    phase_attempt: int = Field(ge=0)
    phase_timeout_secs: int | None = Field(default=None, ge=0)
    model_override: str | None = None
    tool_override: str | None = None
    task_complexity: str | None = None
    rework_context: Any = None
    pipeline_vars: Any = None
    dispatch_input: Any = None
    schedule_input: Any = None
    phase_routing: Any = None
    mcp_config: Any = None
    actor: Actor | None = None


class RunPhaseResult(WireModel):
    phase_status: PhaseStatus
    duration_secs: float = Field(ge=0)
    outcome: Any = None
    metadata: Any = None
    signals: list[Any] = Field(default_factory=list)
    model: str | None = None
    tool: str | None = None


class WorkflowRunnerCapabilities(WireModel):
    phase_decision_parsing: bool = False
    rework_context_support: bool = False
    post_success_actions: bool = False
    crash_recovery: bool = False
    manual_pause_support: bool = False
