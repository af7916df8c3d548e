"""queue kind (protocol 0.3.2): ``queue/*`` (reference §2.6). The project root comes from
``init_extensions.project_binding``, never from requests."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import Field

from animus_plugin_protocol._wire import WireModel

from .subject import SubjectDispatch

__all__ = [
    "QUEUE_CRATE_VERSION",
    "CompletionStatus",
    "QueueCapabilities",
    "QueueCompletionParams",
    "QueueEnqueueParams",
    "QueueEnqueueResult",
    "QueueEntry",
    "QueueEntryIdParams",
    "QueueEntryStatus",
    "QueueErrorCode",
    "QueueHoldParams",
    "QueueLeaseParams",
    "QueueLeaseResult",
    "QueueListParams",
    "QueueListResult",
    "QueueMarkAssignedParams",
    "QueueMutationResult",
    "QueueNextDeadlineResult",
    "QueueReleasePendingParams",
    "QueueReleasePendingResult",
    "QueueReorderParams",
    "QueueReorderResult",
    "QueueStats",
]

QUEUE_CRATE_VERSION = "0.3.2"


class QueueErrorCode(IntEnum):
    ENTRY_NOT_FOUND = -32201
    ALREADY_ASSIGNED = -32202
    NOT_PENDING = -32203
    REORDER_FAILED = -32204
    LOCK_ACQUISITION_FAILED = -32205
    LEASE_WORKFLOW_ID_MISMATCH = -32206
    PROJECT_BINDING_MISMATCH = -32207
    NOT_ASSIGNED = -32208


class QueueEntryStatus(StrEnum):
    PENDING = "pending"
    ASSIGNED = "assigned"
    HELD = "held"


class CompletionStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class QueueEntry(WireModel):
    entry_id: str
    subject_id: str
    task_id: str | None = None
    subject_dispatch: SubjectDispatch
    status: QueueEntryStatus
    workflow_id: str | None = None
    enqueued_at: str
    assigned_at: str | None = None
    held_at: str | None = None
    run_at: str | None = None
    expire_after_secs: int | None = Field(default=None, ge=0)


class QueueStats(WireModel):
    total: int = Field(default=0, ge=0)
    pending: int = Field(default=0, ge=0)
    assigned: int = Field(default=0, ge=0)
    held: int = Field(default=0, ge=0)
    deferred: int = Field(default=0, ge=0)


class QueueEnqueueParams(WireModel):
    subject_dispatch: SubjectDispatch
    run_at: str | None = None
    expire_after_secs: int | None = Field(default=None, ge=0)


class QueueEnqueueResult(WireModel):
    enqueued: bool
    entry_id: str
    subject_id: str
    warning: str | None = None


class QueueListParams(WireModel):
    status: list[str] | None = None
    limit: int | None = Field(default=None, ge=0)
    offset: int | None = Field(default=None, ge=0)


class QueueListResult(WireModel):
    entries: list[QueueEntry] = Field(default_factory=list)
    total: int = Field(ge=0)
    stats: QueueStats


class QueueLeaseParams(WireModel):
    max: int = Field(ge=0)
    workflow_ids: list[str] | None = None
    exclude_subjects: list[str] | None = None


class QueueLeaseResult(WireModel):
    leased: list[QueueEntry] = Field(default_factory=list)


class QueueEntryIdParams(WireModel):
    """Params of ``queue/release`` and ``queue/drop``."""

    entry_id: str


class QueueHoldParams(WireModel):
    entry_id: str
    reason: str | None = None


class QueueMarkAssignedParams(WireModel):
    entry_id: str
    workflow_id: str | None = None


class QueueCompletionParams(WireModel):
    entry_id: str
    status: CompletionStatus
    workflow_ref: str | None = None
    workflow_id: str | None = None


class QueueMutationResult(WireModel):
    changed: bool
    not_found: bool


class QueueReorderParams(WireModel):
    entry_ids: list[str]


class QueueReorderResult(WireModel):
    reordered_count: int = Field(ge=0)


class QueueReleasePendingParams(WireModel):
    entry_id: str
    reason: str


class QueueReleasePendingResult(WireModel):
    entry_id: str
    status: QueueEntryStatus


class QueueNextDeadlineResult(WireModel):
    next_run_at: str | None = None


class QueueCapabilities(WireModel):
    priority_weighted: bool = False
    max_lease_batch: int | None = Field(default=None, ge=0)
