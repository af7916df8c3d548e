"""What the workflow runner hands an agent phase, and what it gets back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from animus_agent_runner._cost import TokenUsage
from animus_agent_runner._prompt import PromptContext
from animus_agent_runner._selection import DEFAULT_TOOL
from animus_protocol.workflow import PhaseDecision, WorkflowDecisionRecord

__all__ = ["AgentPhaseRequest", "AgentPhaseResult", "PhaseStatus"]

PhaseStatus = Literal["completed", "failed", "cancelled", "timeout"]


@dataclass(frozen=True)
class AgentPhaseRequest:
    """One attempt of one agent phase.

    ``phase`` and ``agent_profile`` are the config models (``PhaseDefinition``,
    ``AgentProfile``) or plain mappings with the same keys (a compiled phase works: its
    ``runtime``, ``system_prompt``, ``decision_contract``, ``mcp_servers`` and
    ``capabilities`` are read). Explicit fields here win over both. ``extras`` are added
    to the provider request last (``mock_script``, ``approvals``, ...), so they can also
    override any field of it.
    """

    run_id: str
    phase_id: str
    cwd: Path | str
    prompt: PromptContext | str
    attempt: int = 1
    phase: Any = None
    agent_id: str | None = None
    agent_profile: Any = None
    phase_routing: Any = None
    cli_tool: str | None = None
    cli_model: str | None = None
    default_tool: str = DEFAULT_TOOL
    system_prompt: str | None = None
    decision_contract: Any = None
    timeout_secs: float | None = None
    resume: bool = False
    project_root: Path | str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    mcp_servers: Mapping[str, Any] = field(default_factory=dict)
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentPhaseResult:
    """How the session ended and what the phase decided.

    ``status`` is about the session (``completed`` means the agent finished its turn);
    where the run goes next is ``decision_record.decision``. ``retryable`` says whether
    running the attempt again may help (provider death, timeout); nothing is retried here
    beyond the session host's own single retry of a provider that died before any event.
    """

    status: PhaseStatus
    run_id: str
    phase_id: str
    attempt: int
    output: str
    decision: PhaseDecision | None
    decision_record: WorkflowDecisionRecord
    session_id: str | None
    tool: str
    model: str | None
    tokens: TokenUsage
    cost_usd: float | None
    duration_ms: int
    exit_code: int | None
    errors: list[str] = field(default_factory=list)
    guardrail_violations: list[str] = field(default_factory=list)
    retryable: bool = False
    error_category: str | None = None
    cost_source: Literal["reported", "estimated"] | None = None
    selection_source: str = "default"
    events_path: Path | None = None
    session_path: Path | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "completed"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (for phase outputs and the CLI)."""
        return {
            "status": self.status,
            "run_id": self.run_id,
            "phase_id": self.phase_id,
            "attempt": self.attempt,
            "output": self.output,
            "decision": self.decision.to_wire() if self.decision else None,
            "decision_record": self.decision_record.to_wire(),
            "session_id": self.session_id,
            "tool": self.tool,
            "model": self.model,
            "tokens": self.tokens.to_dict(),
            "cost_usd": self.cost_usd,
            "cost_source": self.cost_source,
            "duration_ms": self.duration_ms,
            "exit_code": self.exit_code,
            "errors": list(self.errors),
            "guardrail_violations": list(self.guardrail_violations),
            "retryable": self.retryable,
            "error_category": self.error_category,
            "events_path": str(self.events_path) if self.events_path else None,
            "session_path": str(self.session_path) if self.session_path else None,
        }
