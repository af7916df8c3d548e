"""``queue/*`` and ``project/*`` control methods.

The control queue shapes differ from the queue *plugin* shapes: entries carry ``id`` and a
five-valued status. ``queue/enqueue`` here also takes an optional ``workflow_ref``, subject,
input and vars, closing the original's gap where the wire could not name a workflow.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from animus_plugin_protocol import SubjectRef
from animus_protocol._aliased_enum import AliasedEnum
from animus_protocol._wire import WireRequest
from animus_protocol.statuses import Priority
from animus_protocol.timeutil import Timestamp

__all__ = [
    "ControlQueueEntry",
    "ControlQueueStats",
    "ControlQueueStatus",
    "ProjectInitParams",
    "ProjectInitResult",
    "ProjectSetupParams",
    "ProjectStatusResponse",
    "QueueEnqueueRequest",
    "QueueHoldRequest",
    "QueueIdParams",
    "QueueListRequest",
    "QueueListResponse",
    "QueueReorderRequest",
    "ReorderPosition",
]


class ControlQueueStatus(AliasedEnum):
    READY = "ready"
    HELD = "held"
    IN_FLIGHT = "in-flight"
    DONE = "done"
    DROPPED = "dropped"


class ReorderPosition(StrEnum):
    FRONT = "front"
    BACK = "back"
    BEFORE = "before"
    AFTER = "after"


class ControlQueueEntry(WireRequest):
    id: str
    subject_id: str
    status: ControlQueueStatus
    priority: Priority = Priority.MEDIUM
    enqueued_at: Timestamp
    hold_reason: str | None = None
    workflow_ref: str | None = None


class QueueListRequest(WireRequest):
    status: ControlQueueStatus | None = None
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=1)


class QueueListResponse(WireRequest):
    entries: list[ControlQueueEntry] = Field(default_factory=list)
    next_cursor: str | None = None


class QueueEnqueueRequest(WireRequest):
    """Enqueue a task (``task_id``) or any subject (``subject``); one of them is required."""

    task_id: str | None = None
    priority: Priority | None = None
    workflow_ref: str | None = None
    subject: SubjectRef | None = None
    input: Any | None = None
    vars: dict[str, str] | None = None

    @model_validator(mode="after")
    def _needs_a_subject(self) -> QueueEnqueueRequest:
        if not self.task_id and self.subject is None:
            raise ValueError("queue/enqueue needs task_id or subject")
        return self


class QueueIdParams(WireRequest):
    """``queue/drop`` and ``queue/release``."""

    id: str = Field(min_length=1)


class QueueHoldRequest(WireRequest):
    id: str = Field(min_length=1)
    reason: str | None = None


class QueueReorderRequest(WireRequest):
    id: str | None = None
    subject_ids: list[str] | None = None
    anchor_id: str | None = None
    position: ReorderPosition = ReorderPosition.FRONT

    @model_validator(mode="after")
    def _anchor_when_relative(self) -> QueueReorderRequest:
        relative = self.position in (ReorderPosition.BEFORE, ReorderPosition.AFTER)
        if relative and not self.anchor_id:
            raise ValueError(f"position {self.position.value!r} needs anchor_id")
        if not self.id and not self.subject_ids:
            raise ValueError("queue/reorder needs id or subject_ids")
        return self


class ControlQueueStats(WireRequest):
    ready: int = 0
    held: int = 0
    in_flight: int = 0
    done_recent: int = 0
    dropped_recent: int = 0


class ProjectInitParams(WireRequest):
    template: str | None = None
    yes: bool = False


class ProjectSetupParams(WireRequest):
    mcp: bool = False
    start_daemon: bool = False


class ProjectInitResult(WireRequest):
    """Result of ``project/init`` and ``project/setup``."""

    project_root: str
    repo_scope: str
    created: bool


class ProjectStatusResponse(WireRequest):
    project_root: str
    repo_scope: str
    workflow_definition_count: int = 0
    task_count: int = 0
    active_runs: int = 0
    queue_size: int = 0
