"""durable_store kind (protocol 0.1.0): the step store, ``durable/*`` (reference §2.8)."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any

from pydantic import Field

from animus_plugin_protocol._wire import WireModel

__all__ = [
    "DURABLE_STORE_CRATE_VERSION",
    "AbandonStepParams",
    "AckResult",
    "BeginStepParams",
    "BeginStepResult",
    "BeginStepStatus",
    "BeginWorkflowRunParams",
    "BeginWorkflowRunResult",
    "CommitStepParams",
    "DurableStoreCapabilities",
    "DurableStoreErrorCode",
    "InFlightRun",
    "QueryRunParams",
    "QueryRunResult",
    "RecoverInFlightParams",
    "RecoverInFlightResult",
    "RunStatus",
    "StepError",
    "StepOutcome",
    "StepRecord",
    "idempotency_key",
]

DURABLE_STORE_CRATE_VERSION = "0.1.0"


class DurableStoreErrorCode(IntEnum):
    RUN_NOT_FOUND = -32301
    STEP_NOT_FOUND = -32302
    RESERVATION_EXPIRED = -32303
    BACKEND_UNAVAILABLE = -32304
    PROJECT_BINDING_MISMATCH = -32305
    REPLAY_NONDETERMINISM = -32306
    INVALID_COMMIT_OUTCOME = -32307


class BeginStepStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ALREADY_COMMITTED = "already_committed"
    PRIOR_ERROR = "prior_error"


class StepOutcome(StrEnum):
    SUCCESS = "success"
    ERROR = "error"


class RunStatus(StrEnum):
    PENDING = "pending"
    SUCCESS = "success"
    ERROR = "error"
    CANCELLED = "cancelled"


def idempotency_key(run_id: str, phase_id: str, step_name: str) -> str:
    """The conventional key ``run_id:phase_id:step_name``."""
    return f"{run_id}:{phase_id}:{step_name}"


class StepError(WireModel):
    code: str
    message: str
    details: Any = None


class BeginWorkflowRunParams(WireModel):
    run_id: str
    phase_id: str
    inputs: Any = None


class BeginWorkflowRunResult(WireModel):
    epoch: int = Field(ge=0)


class BeginStepParams(WireModel):
    run_id: str
    phase_id: str
    step_name: str
    idempotency_key: str
    payload: Any = None
    reservation_ttl_secs: int | None = Field(default=None, ge=0)


class BeginStepResult(WireModel):
    step_id: str
    status: BeginStepStatus
    prior_output: Any = None
    prior_error: StepError | None = None
    reservation_expires_at: str | None = None


class CommitStepParams(WireModel):
    step_id: str
    outcome: StepOutcome
    output: Any = None
    error: StepError | None = None


class AckResult(WireModel):
    ack: bool


class AbandonStepParams(WireModel):
    step_id: str
    reason: str | None = None


class RecoverInFlightParams(WireModel):
    since_epoch: int = Field(ge=0)


class InFlightRun(WireModel):
    run_id: str
    phase_id: str
    last_committed_step: str | None = None
    replay_state: Any = None


class RecoverInFlightResult(WireModel):
    in_flight: list[InFlightRun] = Field(default_factory=list)


class QueryRunParams(WireModel):
    run_id: str
    phase_id: str


class StepRecord(WireModel):
    step_id: str
    step_name: str
    idempotency_key: str
    committed_at: str
    outcome: StepOutcome
    output: Any = None
    error: StepError | None = None


class QueryRunResult(WireModel):
    run_id: str
    phase_id: str
    status: RunStatus
    steps: list[StepRecord] = Field(default_factory=list)


class DurableStoreCapabilities(WireModel):
    default_reservation_ttl_secs: int | None = Field(default=None, ge=0)
    max_payload_bytes: int | None = Field(default=None, ge=0)
    supports_recovery: bool = False
