"""Workflow runs, their phases, decisions and checkpoints (spec §5.4-5.5)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from animus_protocol._wire import WireModel
from animus_protocol.statuses import (
    CheckpointReason,
    DecisionAction,
    DecisionSource,
    EvidenceKind,
    PhaseExecutionStatus,
    Risk,
    Verdict,
    WorkflowMachineState,
    WorkflowStatus,
    parse_verdict,
)
from animus_protocol.subjects import SubjectRef
from animus_protocol.timeutil import Timestamp, utc_now

__all__ = [
    "Checkpoint",
    "CheckpointMetadata",
    "Evidence",
    "PhaseDecision",
    "WorkflowDecisionRecord",
    "WorkflowPhaseExecution",
    "WorkflowRun",
]


def _clamp_confidence(value: Any) -> float:
    # Agents write "0.8", 80 or 1.2; keep the record and clamp into [0, 1] rather than
    # reject a decision over its confidence.
    if value is None or value == "":
        return 0.0
    number = float(value)
    if math.isnan(number):
        return 0.0
    return min(max(number, 0.0), 1.0)


class Evidence(WireModel):
    """One piece of support for a verdict; unknown kinds are kept as plain strings."""

    kind: EvidenceKind | str = Field(default=EvidenceKind.CUSTOM, union_mode="left_to_right")
    description: str = ""
    file_path: str | None = None
    value: Any | None = None


class PhaseDecision(WireModel):
    """The structured verdict an agent phase ends with."""

    kind: Literal["phase_decision"] = "phase_decision"
    phase_id: str = ""
    verdict: Verdict
    confidence: float = 0.0
    risk: Risk = Risk.MEDIUM
    reason: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    guardrail_violations: list[str] = Field(default_factory=list)
    commit_message: str | None = None
    target_phase: str | None = None

    @field_validator("verdict", mode="before")
    @classmethod
    def _tolerate_unknown_verdict(cls, value: Any) -> Verdict:
        return parse_verdict(value)

    @field_validator("confidence", mode="before")
    @classmethod
    def _clamp(cls, value: Any) -> float:
        return _clamp_confidence(value)

    @field_validator("risk", mode="before")
    @classmethod
    def _default_risk(cls, value: Any) -> Any:
        return Risk.lookup(value) or Risk.MEDIUM


class WorkflowDecisionRecord(WireModel):
    """What the runner decided after a phase, and on what basis."""

    timestamp: Timestamp = Field(default_factory=utc_now)
    phase_id: str
    source: DecisionSource = DecisionSource.LLM
    decision: DecisionAction
    target_phase: str | None = None
    reason: str = ""
    confidence: float = 0.0
    risk: Risk = Risk.MEDIUM
    guardrail_violations: list[str] = Field(default_factory=list)
    machine_version: str | None = None
    machine_hash: str | None = None
    machine_source: str | None = None

    @field_validator("confidence", mode="before")
    @classmethod
    def _clamp(cls, value: Any) -> float:
        return _clamp_confidence(value)


class WorkflowPhaseExecution(WireModel):
    phase_id: str
    status: PhaseExecutionStatus = PhaseExecutionStatus.PENDING
    started_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    attempt: int = 0
    error_message: str | None = None


class Checkpoint(WireModel):
    number: int
    timestamp: Timestamp = Field(default_factory=utc_now)
    reason: CheckpointReason
    phase_id: str | None = None
    machine_state: WorkflowMachineState
    status: WorkflowStatus


class CheckpointMetadata(WireModel):
    checkpoint_count: int = 0
    checkpoints: list[Checkpoint] = Field(default_factory=list)


class WorkflowRun(WireModel):
    """One run of a workflow on a subject (``OrchestratorWorkflow``)."""

    id: str
    task_id: str = ""
    workflow_ref: str | None = None
    subject: SubjectRef
    input: Any | None = None
    vars: dict[str, str] = Field(default_factory=dict)
    status: WorkflowStatus = WorkflowStatus.PENDING
    current_phase_index: int = 0
    phases: list[WorkflowPhaseExecution] = Field(default_factory=list)
    machine_state: WorkflowMachineState = WorkflowMachineState.IDLE
    current_phase: str | None = None
    started_at: Timestamp = Field(default_factory=utc_now)
    completed_at: Timestamp | None = None
    failure_reason: str | None = None
    checkpoint_metadata: CheckpointMetadata = Field(default_factory=CheckpointMetadata)
    rework_counts: dict[str, int] = Field(default_factory=dict)
    total_reworks: int = 0
    decision_history: list[WorkflowDecisionRecord] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _subject_from_legacy_task_id(cls, data: Any) -> Any:
        # Runs recorded before subjects existed carry only ``task_id``.
        if isinstance(data, dict) and "subject" not in data and data.get("task_id"):
            return {**data, "subject": {"Task": {"id": data["task_id"]}}}
        return data

    def phase(self, phase_id: str) -> WorkflowPhaseExecution | None:
        """The execution record of ``phase_id``, if the run has one."""
        return next((p for p in self.phases if p.phase_id == phase_id), None)
