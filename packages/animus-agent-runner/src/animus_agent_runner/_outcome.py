"""The end of a session turn: its outcome, token usage and cost, provider verdicts."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from animus_agent_runner._cost import (
    TokenUsage,
    estimate_cost_usd,
    reported_cost_usd,
    usage_from_metadata,
)
from animus_agent_runner._models import PhaseStatus
from animus_agent_runner._session_file import SessionStatus
from animus_agent_runner.decision import decision_from_payload
from animus_plugin_protocol.kinds.provider import AgentRunResponse
from animus_protocol.envelope import AnimusError
from animus_protocol.workflow import PhaseDecision
from animus_session_host import SessionCancelledError, SessionError, classify_failure

__all__ = [
    "SESSION_STATUS",
    "SessionOutcome",
    "decision_from_verdict",
    "outcome_of",
    "usage_and_cost",
]


@dataclass
class SessionOutcome:
    """How the turn ended, before decision extraction."""

    status: PhaseStatus
    response: AgentRunResponse | None = None
    errors: list[str] = field(default_factory=list)
    retryable: bool = False
    category: str | None = None


def outcome_of(turn: asyncio.Task[AgentRunResponse]) -> SessionOutcome:
    """The outcome of a finished turn task (every exception becomes a failed outcome)."""
    try:
        response = turn.result()
    except SessionCancelledError as exc:
        return SessionOutcome("cancelled", errors=[exc.message], category="cancelled")
    except SessionError as exc:
        return SessionOutcome(
            "failed", errors=[exc.message], retryable=exc.retryable, category=exc.category
        )
    except AnimusError as exc:
        message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        return SessionOutcome("failed", errors=[message], retryable=False, category=exc.code)
    except Exception as exc:  # an unexpected failure is still a result, never a crash
        failure = classify_failure(exc)
        return SessionOutcome(
            "failed",
            errors=[f"{type(exc).__name__}: {exc}"],
            retryable=failure.retryable,
            category=failure.category,
        )
    if response.exit_code != 0:
        errors = list(response.errors) or [f"the agent exited with code {response.exit_code}"]
        return SessionOutcome("failed", response, errors, retryable=False, category="exit_code")
    return SessionOutcome("completed", response, list(response.errors))


SESSION_STATUS: dict[PhaseStatus, SessionStatus] = {
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
    "timeout": "failed",
}


def usage_and_cost(
    response: AgentRunResponse | None, model: str | None
) -> tuple[TokenUsage, float | None, Any]:
    if response is None:
        return TokenUsage(), None, None
    used = response.tokens_used
    if used is not None:
        tokens = TokenUsage(used.input, used.output, used.cached, used.cache_writes)
    else:
        tokens = usage_from_metadata(response.metadata) or TokenUsage()
    reported = reported_cost_usd(response.metadata)
    if reported is not None:
        return tokens, reported, "reported"
    estimated = estimate_cost_usd(model, tokens) if tokens.total else None
    return tokens, estimated, "estimated" if estimated is not None else None


def decision_from_verdict(value: Any, phase_id: str) -> PhaseDecision | None:
    """A provider's ``decision_verdict`` when the output held no decision object."""
    if isinstance(value, Mapping) and "verdict" in value:
        return decision_from_payload(value, phase_id)
    if isinstance(value, str) and value.strip():
        return decision_from_payload(
            {"verdict": value, "reason": "verdict reported by the provider"}, phase_id
        )
    return None
