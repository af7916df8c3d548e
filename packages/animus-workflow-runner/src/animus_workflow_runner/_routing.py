"""Where a run goes after a phase: verdict routing (``on_verdict``), rework targets and
their budget (``max_rework_attempts``), and token/cost budgets (``budget.on_exceed``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from animus_protocol.statuses import DecisionAction, DecisionSource, Risk
from animus_protocol.workflow import PhaseDecision, WorkflowDecisionRecord

if TYPE_CHECKING:
    from animus_workflow_runner.engine import WorkflowExecution

__all__ = [
    "DEFAULT_MAX_REWORK",
    "DEFAULT_RETRY_ATTEMPTS",
    "Route",
    "budget_route",
    "decision_record_from",
    "retry_route",
    "route_after",
]

DEFAULT_MAX_REWORK = 3
DEFAULT_RETRY_ATTEMPTS = 3


@dataclass
class Route:
    kind: str  # next | goto | complete | fail | escalate | pause | manual
    target_index: int | None = None
    reason: str | None = None
    phase_id: str | None = None


def _index_of(ex: WorkflowExecution, target: str, near: int, backwards: bool) -> int | None:
    ids = [p["id"] for p in ex.definition.phases]
    order = (
        list(range(near, -1, -1)) + list(range(near + 1, len(ids)))
        if backwards
        else (list(range(near + 1, len(ids))) + list(range(near, -1, -1)))
    )
    return next((i for i in order if ids[i] == target), None)


def _rework_target(
    ex: WorkflowExecution, index: int, configured: str | None, repeat: bool
) -> str | None:
    if configured:
        return configured
    phases = ex.definition.phases
    if repeat:
        return str(phases[index]["id"])
    for i in range(index - 1, -1, -1):
        if phases[i]["mode"] == "agent":
            return str(phases[i]["id"])
    return str(phases[index]["id"]) if phases[index]["mode"] == "agent" else None


def route_after(
    ex: WorkflowExecution,
    index: int,
    entry: dict[str, Any],
    record: WorkflowDecisionRecord,
    verdict: str,
) -> Route:
    pid = str(entry["id"])
    action = record.decision.value
    key = "rework" if action == "repeat" else action
    routes = entry.get("on_verdict") or {}
    cfg = routes.get(key) or {}
    target: str | None = cfg.get("target")
    agent_target = record.target_phase
    if agent_target and cfg.get("allow_agent_target"):
        allowed = cfg.get("allowed_targets") or []
        if not allowed or agent_target in allowed:
            target = agent_target
    if target == "":
        if key in ("advance", "skip"):
            return Route("complete", phase_id=pid)
        return Route(
            "fail", reason=f"phase {pid} ended the run ({verdict}): {record.reason}", phase_id=pid
        )
    if key in ("advance", "skip"):
        if target:
            found = _index_of(ex, target, index, backwards=False)
            if found is not None:
                return Route("goto", found, phase_id=pid)
        return Route("next", phase_id=pid)
    if key == "fail":
        if target:
            found = _index_of(ex, target, index, backwards=False)
            if found is not None:
                return Route("goto", found, phase_id=pid)
        return Route("fail", reason=f"phase {pid} failed: {record.reason}", phase_id=pid)
    # rework / repeat
    tgt = _rework_target(ex, index, target, action == "repeat")
    found = _index_of(ex, tgt, index, backwards=True) if tgt else None
    if tgt is None or found is None:
        return Route(
            "fail",
            reason=f"phase {pid} asked for rework but no phase can be reworked: {record.reason}",
            phase_id=pid,
        )
    limit = entry.get("max_rework_attempts")
    limit = DEFAULT_MAX_REWORK if limit is None else int(limit)
    count = int(ex.run.rework_counts.get(tgt, 0)) + 1
    if count > limit:
        return Route(
            "escalate",
            reason=f"rework budget exhausted: {pid} sent {tgt} back more than "
            f"{limit} time(s); last reason: {record.reason}",
            phase_id=pid,
        )
    return Route("goto", found, reason=tgt, phase_id=pid)


def budget_route(ex: WorkflowExecution, pid: str, entry: dict[str, Any]) -> Route | None:
    usage = ex.state["usage"]
    checks: list[tuple[str, dict[str, Any], int, float]] = []
    phase_budget = entry.get("budget")
    if phase_budget:
        pu = usage["phases"].get(pid, {})
        checks.append(
            (f"phase {pid}", phase_budget, int(pu.get("tokens", 0)), float(pu.get("cost_usd", 0.0)))
        )
    run_budget = ex.definition.workflow.get("budget")
    if run_budget:
        checks.append(("run", run_budget, int(usage["tokens"]), float(usage["cost_usd"])))
    acknowledged = set(ex.state.get("budget_acknowledged") or [])
    for scope, budget, tokens, cost in checks:
        over: list[str] = []
        if budget.get("max_tokens") is not None and tokens > int(budget["max_tokens"]):
            over.append(f"{tokens} tokens of max_tokens {budget['max_tokens']}")
        if budget.get("max_cost_usd") is not None and cost > float(budget["max_cost_usd"]):
            over.append(f"${cost:.4f} of max_cost_usd ${float(budget['max_cost_usd']):.4f}")
        if not over:
            continue
        key = f"{scope}:{'|'.join(over)}"
        if key in acknowledged:
            continue
        on_exceed = budget.get("on_exceed") or "pause"
        reason = f"budget exceeded: {scope} used {' and '.join(over)} (on_exceed: {on_exceed})"
        ex.events.emit(
            "budget_exceeded",
            {
                "scope": scope,
                "tokens": tokens,
                "cost_usd": cost,
                "budget": budget,
                "on_exceed": on_exceed,
                "reason": reason,
            },
            pid,
        )
        ex.state.setdefault("budget_acknowledged", []).append(key)
        if on_exceed == "fail":
            return Route("fail", reason=reason, phase_id=pid)
        if on_exceed == "pause":
            return Route("pause", reason=reason, phase_id=pid)
    return None


def decision_record_from(data: Mapping[str, Any], phase_id: str) -> WorkflowDecisionRecord:
    """A journaled result's decision record (commands and manual gates build one here)."""
    if data.get("decision_record"):
        return WorkflowDecisionRecord.from_wire(data["decision_record"])
    decision = PhaseDecision.from_wire(data["decision"]) if data.get("decision") else None
    verdict = decision.verdict.value if decision else "fail"
    action = (
        DecisionAction.parse(verdict)
        if verdict in ("advance", "rework", "skip", "fail")
        else DecisionAction.FAIL
    )
    return WorkflowDecisionRecord(
        phase_id=phase_id,
        source=DecisionSource.FALLBACK,
        decision=action,
        reason=decision.reason if decision else "no decision",
        confidence=decision.confidence if decision else 0.0,
        risk=decision.risk if decision else Risk.MEDIUM,
        target_phase=decision.target_phase if decision else None,
    )


def retry_route(
    ex: WorkflowExecution, index: int, entry: dict[str, Any], result: dict[str, Any]
) -> Route | None:
    """Run an ``idempotent`` agent phase again after a retryable session failure (provider
    death, timeout), up to ``retry.max_attempts`` attempts; other phases never auto-retry."""
    if result.get("mode") != "agent" or result.get("status") == "completed":
        return None
    if not result.get("retryable") or entry.get("idempotency") != "idempotent":
        return None
    pid = str(entry["id"])
    limit = int((entry.get("retry") or {}).get("max_attempts") or DEFAULT_RETRY_ATTEMPTS)
    retries = ex.state.setdefault("retries", {})
    used = int(retries.get(pid, 0))
    if used + 1 >= limit:
        return None
    retries[pid] = used + 1
    ex.events.emit(
        "phase_retry",
        {"attempt": used + 2, "max_attempts": limit, "errors": result.get("errors") or []},
        pid,
    )
    return Route("goto", index, phase_id=pid)
