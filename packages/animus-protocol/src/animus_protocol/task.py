"""The task record (``OrchestratorTask``, spec §5.2) of the built-in task backend."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from animus_protocol._wire import WireModel
from animus_protocol.statuses import (
    Complexity,
    DependencyType,
    ImpactArea,
    Priority,
    Risk,
    Scope,
    TaskStatus,
    TaskType,
)
from animus_protocol.timeutil import Timestamp, utc_now

__all__ = [
    "AgentAssignee",
    "Assignee",
    "ChecklistItem",
    "DispatchHistoryEntry",
    "HumanAssignee",
    "ResourceRequirements",
    "Task",
    "TaskDependency",
    "TaskMetadata",
    "Unassigned",
    "WorkflowMetadata",
]


class AgentAssignee(WireModel):
    type: Literal["agent"] = "agent"
    role: str
    model: str | None = None


class HumanAssignee(WireModel):
    type: Literal["human"] = "human"
    user_id: str


class Unassigned(WireModel):
    type: Literal["unassigned"] = "unassigned"


def _assignee_shorthand(value: Any) -> Any:
    # Older records and hand-written JSON use null or the bare string "unassigned".
    if value is None or value == "unassigned":
        return {"type": "unassigned"}
    return value


Assignee = Annotated[
    AgentAssignee | HumanAssignee | Unassigned,
    BeforeValidator(_assignee_shorthand),
    Field(discriminator="type"),
]


class TaskDependency(WireModel):
    task_id: str
    dependency_type: DependencyType = DependencyType.BLOCKED_BY


class ChecklistItem(WireModel):
    id: str
    description: str
    completed: bool = False
    created_at: Timestamp = Field(default_factory=utc_now)
    completed_at: Timestamp | None = None


class WorkflowMetadata(WireModel):
    workflow_id: str | None = None
    requires_design: bool = False
    requires_architecture: bool = False
    requires_qa: bool = False
    requires_staging_deploy: bool = False
    requires_production_deploy: bool = False


class TaskMetadata(WireModel):
    created_at: Timestamp = Field(default_factory=utc_now)
    updated_at: Timestamp = Field(default_factory=utc_now)
    created_by: str = "animus"
    updated_by: str = "animus"
    started_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    status_changed_at: Timestamp | None = None
    version: int = 1


class ResourceRequirements(WireModel):
    max_cpu_percent: float | None = None
    max_memory_mb: int | None = None
    requires_network: bool = False


class DispatchHistoryEntry(WireModel):
    workflow_id: str
    started_at: Timestamp
    ended_at: Timestamp | None = None
    duration_secs: float | None = None
    outcome: str
    failed_phase: str | None = None
    failure_reason: str | None = None


class Task(WireModel):
    """A unit of work. Wire names follow the original; ``task_type`` is ``type`` on the wire."""

    id: str
    title: str
    description: str = ""
    task_type: TaskType = Field(default=TaskType.FEATURE, alias="type")
    status: TaskStatus = TaskStatus.BACKLOG
    blocked_reason: str | None = None
    blocked_at: Timestamp | None = None
    blocked_phase: str | None = None
    blocked_by: str | None = None
    priority: Priority = Priority.MEDIUM
    risk: Risk = Risk.MEDIUM
    scope: Scope = Scope.MEDIUM
    complexity: Complexity = Complexity.MEDIUM
    impact_area: list[ImpactArea] = Field(default_factory=list)
    assignee: Assignee = Field(default_factory=Unassigned)
    estimated_effort: str | None = None
    linked_requirements: list[str] = Field(default_factory=list)
    linked_architecture_entities: list[str] = Field(default_factory=list)
    dependencies: list[TaskDependency] = Field(default_factory=list)
    checklist: list[ChecklistItem] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    workflow_metadata: WorkflowMetadata = Field(default_factory=WorkflowMetadata)
    worktree_path: str | None = None
    branch_name: str | None = None
    metadata: TaskMetadata = Field(default_factory=TaskMetadata)
    deadline: Timestamp | None = None
    paused: bool = False
    cancelled: bool = False
    resolution: str | None = None
    resource_requirements: ResourceRequirements = Field(default_factory=ResourceRequirements)
    consecutive_dispatch_failures: int | None = None
    last_dispatch_failure_at: Timestamp | None = None
    dispatch_history: list[DispatchHistoryEntry] = Field(default_factory=list)

    def blocking_dependency_ids(self) -> list[str]:
        """Ids of tasks this one waits for (``blocked-by`` edges)."""
        return [
            d.task_id for d in self.dependencies if d.dependency_type is DependencyType.BLOCKED_BY
        ]

    def touch(self, now: datetime, by: str | None = None) -> None:
        """Stamp ``updated_at`` (and ``updated_by``) and bump ``version``."""
        self.metadata.updated_at = now
        if by is not None:
            self.metadata.updated_by = by
        self.metadata.version += 1
