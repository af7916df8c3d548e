"""Workflows, schedules, triggers, the daemon block, secrets, and the top-level config."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from animus_config._cron import cron_problem
from animus_config._schema_agents import AgentChannel, AgentProfile, McpServer, PhaseCatalogEntry
from animus_config._schema_base import Budget, NonEmptyStr, StrictModel, WorktreeSpec
from animus_config._schema_phases import EvalsSpec, PhaseDefinition

__all__ = [
    "CheckpointRetention",
    "DaemonBlock",
    "DaemonBudget",
    "FileWatcherConfig",
    "MergeSpec",
    "PhaseRouting",
    "PostSuccess",
    "Schedule",
    "SecretSpec",
    "Trigger",
    "VerdictRoute",
    "VerdictRoutes",
    "WebhookConfig",
    "WorkflowConfig",
    "WorkflowDefinition",
    "WorkflowPhaseEntry",
    "WorkflowVariable",
]

_ACTIVE_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class VerdictRoute(StrictModel):
    """Where a verdict sends the run: a phase id of the workflow, or ``""`` to terminate.

    Short form: ``rework: build`` is ``rework: {target: build}``.
    """

    target: str | None = None
    guard: str | None = None
    allow_agent_target: bool = False
    allowed_targets: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"target": value}
        return value


class VerdictRoutes(StrictModel):
    advance: VerdictRoute | None = None
    rework: VerdictRoute | None = None
    skip: VerdictRoute | None = None
    fail: VerdictRoute | None = None


class WorkflowPhaseEntry(StrictModel):
    """One step of a workflow: a phase (``id``) or an inline sub-workflow (``workflow_ref``).

    The string form ``- build`` and the map form ``- review: {...}`` are normalised to this
    shape before validation.
    """

    id: NonEmptyStr | None = None
    workflow_ref: NonEmptyStr | None = None
    agent: NonEmptyStr | None = None
    max_rework_attempts: Annotated[int, Field(ge=0)] = 3
    skip_if: list[str] = Field(default_factory=list)
    on_verdict: VerdictRoutes = Field(default_factory=VerdictRoutes)
    budget: Budget | None = None
    system_prompt_override: str | None = None

    @model_validator(mode="after")
    def _phase_or_ref(self) -> WorkflowPhaseEntry:
        if (self.id is None) == (self.workflow_ref is None):
            raise ValueError("a phase entry needs exactly one of 'id' or 'workflow_ref'")
        if self.workflow_ref is not None and self.model_fields_set - {"workflow_ref"}:
            extra = sorted(self.model_fields_set - {"workflow_ref"})
            raise ValueError(f"a 'workflow_ref' entry takes no other keys (got {extra})")
        return self


class WorkflowVariable(StrictModel):
    name: NonEmptyStr
    description: str | None = None
    required: bool = False
    default: Any = None


class MergeSpec(StrictModel):
    strategy: Literal["merge", "squash", "rebase"] = "merge"
    target_branch: NonEmptyStr = "main"
    create_pr: bool = False
    cleanup_worktree: bool = True


class PostSuccess(StrictModel):
    merge: MergeSpec | None = None


class WorkflowDefinition(StrictModel):
    id: NonEmptyStr
    name: str | None = None
    description: str | None = None
    phases: Annotated[list[WorkflowPhaseEntry], Field(min_length=1)]
    variables: list[WorkflowVariable] = Field(default_factory=list)
    worktree: WorktreeSpec = Field(default_factory=WorktreeSpec)
    budget: Budget | None = None
    post_success: PostSuccess | None = None


class Schedule(StrictModel):
    id: NonEmptyStr
    cron: str
    workflow_ref: NonEmptyStr
    input: Any = None
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        problem = cron_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class FileWatcherConfig(StrictModel):
    paths: Annotated[list[NonEmptyStr], Field(min_length=1)]
    debounce_secs: Annotated[float, Field(ge=0)] = 5
    ignore: list[str] = Field(default_factory=list)


class WebhookConfig(StrictModel):
    secret_env: NonEmptyStr | None = None
    max_triggers_per_minute: Annotated[int, Field(gt=0)] = 10


class Trigger(StrictModel):
    """``config`` is checked against the type's own model by the validator (file:line kept)."""

    id: NonEmptyStr
    type: Literal["file_watcher", "webhook", "github_webhook", "plugin"]
    workflow_ref: NonEmptyStr
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)
    input: Any = None


class PhaseRouting(StrictModel):
    tool: NonEmptyStr | None = None
    model: NonEmptyStr | None = None


class DaemonBudget(StrictModel):
    max_cost_usd_per_day: Annotated[float, Field(gt=0)] | None = None
    on_exceed: Literal["pause", "fail", "warn"] = "pause"


class DaemonBlock(StrictModel):
    """Daemon settings in YAML. Keys not listed here round-trip without effect."""

    model_config = ConfigDict(extra="allow")

    active_hours: str | None = None
    phase_routing: dict[str, PhaseRouting] = Field(default_factory=dict)
    mcp: dict[str, Any] = Field(default_factory=dict)
    budget: DaemonBudget | None = None

    @field_validator("active_hours")
    @classmethod
    def _active_hours(cls, value: str | None) -> str | None:
        if value is None:
            return value
        match = _ACTIVE_HOURS.match(value.strip())
        if not match:
            raise ValueError(
                f"active_hours {value!r} must look like 'HH:MM-HH:MM' (e.g. 09:00-18:00)"
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"active_hours {value!r} has an hour > 23 or a minute > 59")
        if (h1, m1) == (h2, m2):
            raise ValueError(f"active_hours {value!r} is an empty window (start equals end)")
        return value.strip()


class SecretSpec(StrictModel):
    env: NonEmptyStr
    required: bool = True
    description: str | None = None


class CheckpointRetention(StrictModel):
    keep_last_per_phase: Annotated[int, Field(ge=1)] = 3
    max_age_hours: Annotated[float, Field(gt=0)] | None = None
    auto_prune_on_completion: bool = False


class WorkflowConfig(StrictModel):
    """The merged, validated content of ``.animus/workflows.yaml`` and ``workflows/*.yaml``."""

    version: int | None = None
    mcp_servers: dict[str, McpServer] = Field(default_factory=dict)
    agents: dict[str, AgentProfile] = Field(default_factory=dict)
    agent_channels: dict[str, AgentChannel] = Field(default_factory=dict)
    models: dict[str, Any] = Field(default_factory=dict)
    phase_catalog: dict[str, PhaseCatalogEntry] = Field(default_factory=dict)
    phases: dict[str, PhaseDefinition] = Field(default_factory=dict)
    workflows: list[WorkflowDefinition] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)
    daemon: DaemonBlock = Field(default_factory=DaemonBlock)
    secrets: dict[str, SecretSpec] = Field(default_factory=dict)
    tools: dict[str, Any] = Field(default_factory=dict)
    tools_allowlist: list[str] = Field(default_factory=list)
    phase_mcp_bindings: dict[str, list[str]] = Field(default_factory=dict)
    integrations: dict[str, Any] = Field(default_factory=dict)
    checkpoint_retention: CheckpointRetention = Field(default_factory=CheckpointRetention)
    default_workflow_ref: NonEmptyStr | None = None
    evals: EvalsSpec | None = None

    def workflow(self, workflow_id: str) -> WorkflowDefinition | None:
        return next((w for w in self.workflows if w.id == workflow_id), None)
