"""Phase definitions: agent, command and manual modes with their contracts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from animus_config._schema_base import (
    Budget,
    NonEmptyStr,
    ReasoningEffort,
    Risk,
    StrictModel,
    Verdict,
    WorktreeSpec,
)

__all__ = [
    "CommandSpec",
    "DecisionContract",
    "EvalCheck",
    "EvalsSpec",
    "ManualSpec",
    "OutputContract",
    "OutputField",
    "PhaseDefinition",
    "PhaseRuntime",
    "RetryBackoff",
    "RetryPolicy",
]

PositiveInt = Annotated[int, Field(gt=0)]


class PhaseRuntime(StrictModel):
    """Per-phase runtime overrides; each set field wins over the agent profile."""

    tool: NonEmptyStr | None = None
    model: NonEmptyStr | None = None
    tool_profile: str | None = None
    reasoning_effort: ReasoningEffort | None = None
    permission_mode: str | None = None
    timeout_secs: PositiveInt | None = None
    max_attempts: PositiveInt | None = None
    fallback_models: list[str] | None = None
    fallback_tools: list[str] | None = None
    extra_args: list[str] | None = None
    codex_config_overrides: list[str] | None = None
    max_continuations: Annotated[int, Field(ge=0)] | None = None
    web_search: bool | None = None
    network_access: bool | None = None


class OutputField(StrictModel):
    type: Literal["string", "number", "integer", "boolean", "array", "object"] = "string"
    required: bool = False
    description: str | None = None
    enum: list[Any] | None = None
    items: OutputField | None = None
    fields: dict[str, OutputField] | None = None


class OutputContract(StrictModel):
    kind: str | None = None
    required_fields: list[str] = Field(default_factory=list)
    fields: dict[str, OutputField] = Field(default_factory=dict)


class DecisionContract(StrictModel):
    required_evidence: list[str] = Field(default_factory=list)
    min_confidence: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    max_risk: Risk | None = None
    allow_missing_decision: bool = False
    extra_json_schema: dict[str, Any] | None = None
    fields: dict[str, OutputField] = Field(default_factory=dict)


class RetryBackoff(StrictModel):
    initial_secs: Annotated[float, Field(ge=0)] = 5.0
    factor: Annotated[float, Field(ge=1.0)] = 2.0
    max_secs: Annotated[float, Field(ge=0)] = 300.0


class RetryPolicy(StrictModel):
    max_attempts: PositiveInt = 3
    backoff: RetryBackoff | None = None


class CommandSpec(StrictModel):
    """How a command phase runs and how its exit code becomes a verdict."""

    program: NonEmptyStr
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    # task_root (the run's worktree, or the project root when worktree is skipped) is where
    # the changes under test live, so it is the useful default.
    cwd_mode: Literal["project_root", "task_root", "path"] = "task_root"
    cwd_path: NonEmptyStr | None = None
    timeout_secs: PositiveInt = 1800
    success_exit_codes: Annotated[list[int], Field(min_length=1)] = Field(
        default_factory=lambda: [0]
    )
    parse_json_output: bool = False
    expected_result_kind: str | None = None
    expected_schema: dict[str, Any] | None = None
    category: str | None = None
    failure_pattern: str | None = None
    excerpt_max_chars: PositiveInt = 4000
    on_success_verdict: Verdict = "advance"
    on_failure_verdict: Verdict = "fail"
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    failure_risk: Risk = "medium"

    @model_validator(mode="after")
    def _path_needs_cwd_path(self) -> CommandSpec:
        if self.cwd_mode == "path" and not self.cwd_path:
            raise ValueError("cwd_mode 'path' needs 'cwd_path'")
        return self


class ManualSpec(StrictModel):
    instructions: str = "Review the work and approve or reject it."
    approval_note_required: bool = False
    timeout_secs: PositiveInt | None = None


class EvalCheck(StrictModel):
    id: NonEmptyStr
    kind: Literal["command", "llm_judge"]
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    working_dir: str = "$REPO_ROOT"
    timeout_secs: PositiveInt = 300
    expected_exit: int = 0
    agent: str | None = None
    prompt: str | None = None


class EvalsSpec(StrictModel):
    """Parsed and validated; the runner does not enforce evals yet (reported as a warning)."""

    pass_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    on_fail: Literal["block", "rework"] = "block"
    max_reworks: Annotated[int, Field(ge=0)] = 0
    checks: list[EvalCheck] = Field(default_factory=list)


class PhaseDefinition(StrictModel):
    """How one phase executes, whatever workflow uses it."""

    mode: Literal["agent", "command", "manual"]
    agent: NonEmptyStr | None = None
    directive: str | None = None
    system_prompt: str | None = None
    skills: list[str] = Field(default_factory=list)
    runtime: PhaseRuntime | None = None
    capabilities: dict[str, bool] = Field(default_factory=dict)
    output_contract: OutputContract | None = None
    output_json_schema: dict[str, Any] | None = None
    decision_contract: DecisionContract | None = None
    retry: RetryPolicy | None = None
    command: CommandSpec | None = None
    manual: ManualSpec | None = None
    default_tool: str | None = None
    idempotency: Literal["idempotent", "sideeffecting", "unknown"] = "unknown"
    worktree: WorktreeSpec | None = None
    evals: EvalsSpec | None = None
    commit_message: str | None = None
    budget: Budget | None = None
