"""The requirement record (``RequirementItem``, spec §5.3)."""

from __future__ import annotations

from pydantic import Field

from animus_protocol._wire import WireModel
from animus_protocol.statuses import RequirementPriority, RequirementStatus, RequirementType
from animus_protocol.timeutil import Timestamp, utc_now

__all__ = [
    "Requirement",
    "RequirementComment",
    "RequirementLinks",
    "RequirementsExecutionInput",
    "RequirementsExecutionResult",
]


class RequirementLinks(WireModel):
    tasks: list[str] = Field(default_factory=list)
    workflows: list[str] = Field(default_factory=list)
    tests: list[str] = Field(default_factory=list)
    mockups: list[str] = Field(default_factory=list)
    flows: list[str] = Field(default_factory=list)
    related_requirements: list[str] = Field(default_factory=list)


class RequirementComment(WireModel):
    author: str
    content: str
    timestamp: Timestamp = Field(default_factory=utc_now)
    phase: str | None = None


class Requirement(WireModel):
    """A product requirement; ``requirement_type`` is ``type`` on the wire.

    ``rework_count`` (an addition of this implementation) counts review failures, so the
    lifecycle's rework budget survives restarts.
    """

    id: str
    title: str
    description: str = ""
    body: str | None = None
    legacy_id: str | None = None
    category: str | None = None
    requirement_type: RequirementType = Field(default=RequirementType.FUNCTIONAL, alias="type")
    acceptance_criteria: list[str] = Field(default_factory=list)
    priority: RequirementPriority = RequirementPriority.SHOULD
    status: RequirementStatus = RequirementStatus.DRAFT
    source: str = ""
    tags: list[str] = Field(default_factory=list)
    links: RequirementLinks = Field(default_factory=RequirementLinks)
    comments: list[RequirementComment] = Field(default_factory=list)
    relative_path: str | None = None
    linked_task_ids: list[str] = Field(default_factory=list)
    created_at: Timestamp = Field(default_factory=utc_now)
    updated_at: Timestamp = Field(default_factory=utc_now)
    rework_count: int = 0


class RequirementsExecutionInput(WireModel):
    requirement_ids: list[str] = Field(default_factory=list)
    start_workflows: bool = True
    workflow_ref: str | None = None
    include_wont: bool = False


class RequirementsExecutionResult(WireModel):
    requirements_considered: int = 0
    task_ids_created: list[str] = Field(default_factory=list)
    task_ids_reused: list[str] = Field(default_factory=list)
    workflow_ids_started: list[str] = Field(default_factory=list)
