"""Status and classification enums of the domain model (spec §5).

Each enum's values are its canonical wire spelling: kebab-case for tasks, requirements and
machine states, snake_case where the original stores snake (workflow status, phase status,
daemon status). ``Enum.parse`` accepts any case and either separator, plus the legacy aliases
listed per enum, and raises ``InvalidInputError`` listing the accepted values.
"""

from __future__ import annotations

from collections.abc import Mapping

from animus_protocol._aliased_enum import AliasedEnum

__all__ = [
    "CheckpointReason",
    "Complexity",
    "DaemonStatus",
    "DecisionAction",
    "DecisionSource",
    "DependencyType",
    "EvidenceKind",
    "ImpactArea",
    "PhaseExecutionStatus",
    "PhaseResultStatus",
    "Priority",
    "RequirementPriority",
    "RequirementStatus",
    "RequirementType",
    "Risk",
    "Scope",
    "TaskStatus",
    "TaskType",
    "Verdict",
    "WorkflowMachineEvent",
    "WorkflowMachineState",
    "WorkflowStatus",
    "parse_verdict",
]


class TaskStatus(AliasedEnum):
    BACKLOG = "backlog"
    READY = "ready"
    IN_PROGRESS = "in-progress"
    BLOCKED = "blocked"
    ON_HOLD = "on-hold"
    DONE = "done"
    CANCELLED = "cancelled"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {
            "todo": "backlog",
            "in_progress": "in-progress",
            "inprogress": "in-progress",
            "on_hold": "on-hold",
            "onhold": "on-hold",
            "completed": "done",
            "canceled": "cancelled",
        }

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.DONE, TaskStatus.CANCELLED)

    @property
    def is_active(self) -> bool:
        return self is TaskStatus.IN_PROGRESS

    @property
    def is_blocked_group(self) -> bool:
        return self in (TaskStatus.BLOCKED, TaskStatus.ON_HOLD)


class RequirementStatus(AliasedEnum):
    DRAFT = "draft"
    REFINED = "refined"
    PLANNED = "planned"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    PO_REVIEW = "po-review"
    EM_REVIEW = "em-review"
    NEEDS_REWORK = "needs-rework"
    APPROVED = "approved"
    IMPLEMENTED = "implemented"
    DEPRECATED = "deprecated"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {
            "in_progress": "in-progress",
            "po_review": "po-review",
            "em_review": "em-review",
            "needs_rework": "needs-rework",
            "completed": "done",
        }

    @property
    def is_terminal(self) -> bool:
        return self in _REQUIREMENT_TERMINAL


_REQUIREMENT_TERMINAL = frozenset(
    {
        RequirementStatus.APPROVED,
        RequirementStatus.DEPRECATED,
        RequirementStatus.IMPLEMENTED,
        RequirementStatus.DONE,
    }
)


class RequirementPriority(AliasedEnum):
    """MoSCoW; the default for a new requirement is ``should``."""

    MUST = "must"
    SHOULD = "should"
    COULD = "could"
    WONT = "wont"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {
            "must-have": "must",
            "should-have": "should",
            "could-have": "could",
            "won't": "wont",
            "won't-have": "wont",
            "wont-have": "wont",
        }


class RequirementType(AliasedEnum):
    PRODUCT = "product"
    FUNCTIONAL = "functional"
    NON_FUNCTIONAL = "non-functional"
    TECHNICAL = "technical"
    OTHER = "other"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {"non_functional": "non-functional", "nfr": "non-functional"}


class WorkflowStatus(AliasedEnum):
    """Run status as stored (snake_case)."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {"canceled": "cancelled", "succeeded": "completed", "success": "completed"}

    @property
    def is_terminal(self) -> bool:
        """Terminal for prune: completed, failed, escalated, cancelled."""
        return self in (
            WorkflowStatus.COMPLETED,
            WorkflowStatus.FAILED,
            WorkflowStatus.ESCALATED,
            WorkflowStatus.CANCELLED,
        )

    @property
    def is_active(self) -> bool:
        return self in (WorkflowStatus.PENDING, WorkflowStatus.RUNNING)


class WorkflowMachineState(AliasedEnum):
    IDLE = "idle"
    EVALUATE_TRANSITION = "evaluate-transition"
    RUN_PHASE = "run-phase"
    EVALUATE_GATES = "evaluate-gates"
    APPLY_TRANSITION = "apply-transition"
    PAUSED = "paused"
    COMPLETED = "completed"
    MERGE_CONFLICT = "merge-conflict"
    FAILED = "failed"
    HUMAN_ESCALATED = "human-escalated"
    CANCELLED = "cancelled"


class WorkflowMachineEvent(AliasedEnum):
    START = "start"
    PHASE_STARTED = "phase-started"
    PHASE_SUCCEEDED = "phase-succeeded"
    PHASE_FAILED = "phase-failed"
    GATES_PASSED = "gates-passed"
    GATES_FAILED = "gates-failed"
    POLICY_DECISION_READY = "policy-decision-ready"
    POLICY_DECISION_FAILED = "policy-decision-failed"
    PAUSE_REQUESTED = "pause-requested"
    RESUME_REQUESTED = "resume-requested"
    CANCEL_REQUESTED = "cancel-requested"
    REWORK_BUDGET_EXCEEDED = "rework-budget-exceeded"
    HUMAN_FEEDBACK_PROVIDED = "human-feedback-provided"
    MERGE_CONFLICT_DETECTED = "merge-conflict-detected"
    MERGE_CONFLICT_RESOLVED = "merge-conflict-resolved"
    NO_MORE_PHASES = "no-more-phases"
    PHASE_SKIPPED = "phase-skipped"
    RETRY_PHASE_STARTED = "retry-phase-started"
    PHASE_TARGET_SELECTED = "phase-target-selected"


class PhaseExecutionStatus(AliasedEnum):
    """Status of one phase inside a run record (snake_case)."""

    PENDING = "pending"
    READY = "ready"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {"succeeded": "success", "completed": "success"}


class PhaseResultStatus(AliasedEnum):
    """What a runner reports for one phase: ``closed`` means skipped."""

    COMPLETED = "completed"
    REWORK = "rework"
    CLOSED = "closed"
    FAILED = "failed"
    MANUAL_PENDING = "manual_pending"
    PERSIST_FAILED = "persist_failed"


class Verdict(AliasedEnum):
    """A phase's routing verdict. ``unknown`` holds anything else an agent wrote."""

    ADVANCE = "advance"
    REWORK = "rework"
    SKIP = "skip"
    FAIL = "fail"
    UNKNOWN = "unknown"


def parse_verdict(value: object) -> Verdict:
    """Lenient verdict parse: unrecognised text becomes :attr:`Verdict.UNKNOWN`."""
    return Verdict.lookup(value) or Verdict.UNKNOWN


class DecisionSource(AliasedEnum):
    LLM = "llm"
    FALLBACK = "fallback"


class DecisionAction(AliasedEnum):
    """What the runner did with a verdict (decision records)."""

    ADVANCE = "advance"
    SKIP = "skip"
    REWORK = "rework"
    REPEAT = "repeat"
    FAIL = "fail"


class Priority(AliasedEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {"urgent": "critical", "normal": "medium"}

    @property
    def rank(self) -> int:
        """0 for critical .. 3 for low: sort ascending to serve the most urgent first."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {
    Priority.CRITICAL: 0,
    Priority.HIGH: 1,
    Priority.MEDIUM: 2,
    Priority.LOW: 3,
}


class TaskType(AliasedEnum):
    FEATURE = "feature"
    BUGFIX = "bugfix"
    HOTFIX = "hotfix"
    REFACTOR = "refactor"
    DOCS = "docs"
    TEST = "test"
    CHORE = "chore"
    EXPERIMENT = "experiment"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {
            "bug": "bugfix",
            "fix": "bugfix",
            "documentation": "docs",
            "tests": "test",
            "testing": "test",
        }


class Risk(AliasedEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Scope(AliasedEnum):
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"


class Complexity(AliasedEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ImpactArea(AliasedEnum):
    FRONTEND = "frontend"
    BACKEND = "backend"
    DATABASE = "database"
    API = "api"
    INFRASTRUCTURE = "infrastructure"
    DOCS = "docs"
    TESTS = "tests"
    CICD = "cicd"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {"ci/cd": "cicd", "ci": "cicd", "infra": "infrastructure"}


class DependencyType(AliasedEnum):
    BLOCKS_BY = "blocks-by"
    BLOCKED_BY = "blocked-by"
    RELATED_TO = "related-to"

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        return {"blocks": "blocks-by", "related": "related-to"}


class DaemonStatus(AliasedEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    CRASHED = "crashed"


class CheckpointReason(AliasedEnum):
    START = "start"
    RESUME = "resume"
    PAUSE = "pause"
    CANCEL = "cancel"
    STATUS_CHANGE = "status-change"
    RECOVERY = "recovery"
    MANUAL = "manual"


class EvidenceKind(AliasedEnum):
    TESTS_PASSED = "tests_passed"
    TESTS_FAILED = "tests_failed"
    CODE_REVIEW_CLEAN = "code_review_clean"
    CODE_REVIEW_ISSUES = "code_review_issues"
    FILES_MODIFIED = "files_modified"
    REQUIREMENTS_MET = "requirements_met"
    RESEARCH_COMPLETE = "research_complete"
    MANUAL_VERIFICATION = "manual_verification"
    NO_CHANGES_NEEDED = "no_changes_needed"
    CUSTOM = "custom"
