"""Checking a phase decision against the phase's ``decision_contract``.

The rule (documented in ``docs/agent-phases.md``):

- no decision: ``allow_missing_decision`` → ``advance`` with a ``fallback`` record;
  otherwise ``fail`` with a ``fallback`` record and a ``missing_decision`` violation;
- an unrecognised verdict → ``fail`` (routing cannot guess what the agent meant);
- ``advance`` or ``skip`` that breaks the contract (confidence below ``min_confidence``,
  risk above ``max_risk``, a ``required_evidence`` kind absent) → ``rework``: the agent
  claimed success it could not support, and the violations become the rework feedback;
- ``rework`` and ``fail`` keep their verdict; violations are still recorded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from animus_config.schema import DecisionContract
from animus_protocol.statuses import DecisionAction, DecisionSource, Risk, Verdict
from animus_protocol.workflow import PhaseDecision, WorkflowDecisionRecord

__all__ = ["MISSING_DECISION", "as_decision_contract", "contract_violations", "decide"]

MISSING_DECISION = "missing_decision"
_RISK_RANK = {Risk.LOW: 0, Risk.MEDIUM: 1, Risk.HIGH: 2}
_SEPARATORS = re.compile(r"[-_\s]+")
_ACTION_OF = {
    Verdict.ADVANCE: DecisionAction.ADVANCE,
    Verdict.REWORK: DecisionAction.REWORK,
    Verdict.SKIP: DecisionAction.SKIP,
    Verdict.FAIL: DecisionAction.FAIL,
}


def _fold(kind: str) -> str:
    # Evidence kinds are matched the way enums parse: any case, any separator.
    return _SEPARATORS.sub("", kind.strip().lower())


def as_decision_contract(contract: DecisionContract | Mapping[str, Any] | None) -> DecisionContract:
    """A validated contract (an empty one when the phase declares none)."""
    if contract is None:
        return DecisionContract()
    if isinstance(contract, DecisionContract):
        return contract
    return DecisionContract.model_validate(dict(contract))


def contract_violations(decision: PhaseDecision, contract: DecisionContract) -> list[str]:
    """Every way ``decision`` breaks ``contract``, one sentence each, in a stable order."""
    found: list[str] = []
    if contract.min_confidence is not None and decision.confidence < contract.min_confidence:
        found.append(
            f"confidence {decision.confidence:g} is below the contract minimum "
            f"{contract.min_confidence:g}"
        )
    if contract.max_risk is not None:
        limit = Risk(contract.max_risk)
        if _RISK_RANK[decision.risk] > _RISK_RANK[limit]:
            found.append(f"risk {decision.risk.value} exceeds the contract maximum {limit.value}")
    present = {_fold(str(e.kind)) for e in decision.evidence}
    for kind in contract.required_evidence:
        if _fold(kind) not in present:
            found.append(f"required evidence '{kind}' is missing")
    return found


def decide(
    decision: PhaseDecision | None,
    contract: DecisionContract | Mapping[str, Any] | None,
    *,
    phase_id: str,
) -> tuple[WorkflowDecisionRecord, list[str]]:
    """The decision record for a finished session, and the contract violations found."""
    rules = as_decision_contract(contract)
    if decision is None:
        if rules.allow_missing_decision:
            record = WorkflowDecisionRecord(
                phase_id=phase_id,
                source=DecisionSource.FALLBACK,
                decision=DecisionAction.ADVANCE,
                reason="no phase_decision in the output; the decision contract allows that",
            )
            return record, []
        violation = (
            f"{MISSING_DECISION}: the agent printed no phase_decision JSON object "
            "(and the decision contract does not allow a missing decision)"
        )
        record = WorkflowDecisionRecord(
            phase_id=phase_id,
            source=DecisionSource.FALLBACK,
            decision=DecisionAction.FAIL,
            reason=violation,
            guardrail_violations=[violation],
        )
        return record, [violation]
    violations = contract_violations(decision, rules)
    action = _ACTION_OF.get(decision.verdict)
    reason = decision.reason
    if action is None:
        violations.append("unknown verdict: expected advance, rework, skip or fail")
        action = DecisionAction.FAIL
    elif violations and action in (DecisionAction.ADVANCE, DecisionAction.SKIP):
        action = DecisionAction.REWORK
        reason = f"decision contract not met ({'; '.join(violations)}); agent said: {reason}"
    record = WorkflowDecisionRecord(
        phase_id=phase_id,
        source=DecisionSource.LLM,
        decision=action,
        target_phase=decision.target_phase,
        reason=reason,
        confidence=decision.confidence,
        risk=decision.risk,
        guardrail_violations=[*decision.guardrail_violations, *violations],
    )
    return record, violations
