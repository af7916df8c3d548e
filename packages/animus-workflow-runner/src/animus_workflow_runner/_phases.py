"""One phase of the loop: skip_if, the phase's durable steps, its output, routing, budgets.

The phase's attempt (and the step ordinal it starts at) is saved on the run when the phase
starts (``runner.in_phase``), so a runner that dies mid-phase replays exactly the same
steps on resume; the phase's end — decision, rework count, output, next cursor — is one
save of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from animus_protocol.envelope import ConflictError
from animus_protocol.statuses import (
    CheckpointReason,
    DecisionAction,
    DecisionSource,
    PhaseExecutionStatus,
    Risk,
    WorkflowMachineState,
)
from animus_protocol.timeutil import utc_now, utc_now_str
from animus_protocol.workflow import WorkflowDecisionRecord
from animus_workflow_runner import _agent_phase
from animus_workflow_runner.command_phase import command_cwd, run_command_phase
from animus_workflow_runner.conditions import evaluate_any
from animus_workflow_runner.git import (
    WorktreeMode,
    commit_changes,
    ensure_identity,
    ensure_worktree,
)
from animus_workflow_runner.outputs import write_phase_output

if TYPE_CHECKING:
    from animus_workflow_runner.engine import WorkflowExecution

__all__ = ["Route", "ensure_execution_dir", "run_phase"]

DEFAULT_MAX_REWORK = 3
_SUMMARY_CHARS = 4000


@dataclass
class Route:
    kind: str  # next | goto | complete | fail | escalate | pause | manual
    target_index: int | None = None
    reason: str | None = None
    phase_id: str | None = None


# -- execution directory ----------------------------------------------------------------------


def ensure_execution_dir(ex: WorkflowExecution) -> None:
    """The managed worktree (or the project root), found again on every (re)start."""
    spec = ex.definition.workflow.get("worktree") or {}
    mode: WorktreeMode = spec.get("mode") or "auto"
    root = ex.hub.project_root
    if not ex.run.task_id:
        ex.state["worktree"] = {
            "path": str(root),
            "branch": None,
            "mode_effective": "project_root",
            "reason": "only task subjects get a managed worktree",
        }
        return
    info = ensure_worktree(
        root, ex.hub.paths.worktrees_dir, ex.run.task_id, base_ref=spec.get("base_ref"), mode=mode
    )
    ex.state["worktree"] = info.model_dump(mode="json")
    if info.created:
        ex.events.emit("worktree_created", ex.state["worktree"])
        with contextlib.suppress(Exception):
            ex.hub.tasks.update(
                ex.run.task_id,
                worktree_path=str(info.path),
                branch_name=info.branch,
                by=f"workflow {ex.run.id}",
            )


def execution_dir(ex: WorkflowExecution) -> Any:
    from pathlib import Path

    return Path(ex.state["worktree"]["path"])


def managed_worktree(ex: WorkflowExecution) -> bool:
    return bool(ex.state.get("worktree", {}).get("mode_effective") == "worktree")


def git_identity(ex: WorkflowExecution) -> Any:
    return ensure_identity(
        execution_dir(ex),
        ex.env.get("ANIMUS_GIT_AUTHOR_NAME") or None,
        ex.env.get("ANIMUS_GIT_AUTHOR_EMAIL") or None,
    )


# -- skip_if context ----------------------------------------------------------------------


def condition_context(ex: WorkflowExecution) -> dict[str, Any]:
    task = ex.task.to_wire() if ex.task is not None else {}
    if task:
        task.setdefault("type", task.get("task_type"))
    return {
        "task": task,
        "subject": ex.run.subject.to_wire(),
        "vars": dict(ex.run.vars),
        "input": ex.run.input,
        "workflow": {"id": ex.run.workflow_ref, "run_id": ex.run.id},
    }


# -- the phase --------------------------------------------------------------------------


async def run_phase(ex: WorkflowExecution, index: int) -> Route:
    entry = ex.definition.phases[index]
    pid = str(entry["id"])
    record = ex.run.phases[index]
    in_phase = ex.state.get("in_phase")
    if not in_phase or in_phase.get("index") != index:
        conditions = ex.definition.conditions.get(index)
        hit = evaluate_any(conditions, condition_context(ex)) if conditions else None
        if hit is not None:
            return _skip(ex, index, pid, hit.text)
        attempt = int(ex.state["phase_attempts"].get(pid, 0)) + 1
        in_phase = {
            "index": index,
            "phase_id": pid,
            "attempt": attempt,
            "ordinal": int(ex.state["ordinal"]),
            "started_at": utc_now_str(),
        }
        ex.state["in_phase"] = in_phase
        record.status = PhaseExecutionStatus.RUNNING
        record.started_at = utc_now()
        record.completed_at = None
        record.attempt = attempt
        record.error_message = None
        ex.run.current_phase = pid
        ex.run.machine_state = WorkflowMachineState.RUN_PHASE
        ex.save()
        ex.events.emit("phase_started", {"attempt": attempt, "mode": entry["mode"]}, pid)
    else:
        ex.run.current_phase = pid
        ex.events.emit(
            "phase_started",
            {"attempt": in_phase["attempt"], "mode": entry["mode"], "resumed": True},
            pid,
        )
    attempt = int(in_phase["attempt"])
    ordinal = int(in_phase["ordinal"])
    mode = entry["mode"]
    try:
        if mode == "agent":
            result = await _agent_phase.run_agent_step(ex, entry, attempt, ordinal)
        elif mode == "command":
            result = await _command_step(ex, entry, attempt, ordinal)
        else:
            result = _manual_gate(ex, entry, attempt)
        commit = None
        if mode != "manual":
            commit = await asyncio.to_thread(_commit_step, ex, entry, attempt, ordinal + 1, result)
    except ConflictError as exc:
        # An interrupted side-effecting step: stop, say what and how to go on.
        ex.state["interrupted"] = {"phase_id": pid, "message": exc.message}
        with contextlib.suppress(Exception):
            ex.pause(exc.message)
        raise
    return _end_phase(ex, index, entry=entry, attempt=attempt, result=result, commit=commit)


def _skip(ex: WorkflowExecution, index: int, pid: str, text: str) -> Route:
    record = ex.run.phases[index]
    record.status = PhaseExecutionStatus.SKIPPED
    record.completed_at = utc_now()
    ex.run.current_phase = pid
    ex.run.machine_state = WorkflowMachineState.EVALUATE_TRANSITION
    ex.run.current_phase_index = index + 1
    ex.save()
    ex.checkpoint(CheckpointReason.STATUS_CHANGE, pid)
    ex.events.emit("phase_skipped", {"skip_if": text}, pid)
    return Route("next")


async def _command_step(
    ex: WorkflowExecution, entry: dict[str, Any], attempt: int, ordinal: int
) -> dict[str, Any]:
    pid = str(entry["id"])
    step = ex.steps.begin(pid, ordinal, attempt, "command")
    if step.committed:
        return dict(step.result)
    idempotency = entry.get("idempotency") or "unknown"
    if step.interrupted and idempotency != "idempotent" and not ex.request.force:
        raise ConflictError(
            f"phase {pid!r} (attempt {attempt}) was interrupted while its command step ran, "
            f"and the phase is {idempotency}: running the command again could repeat its "
            "side effects",
            details={"phase_id": pid, "step": "command", "attempt": attempt},
            hint="check the worktree, then run 'animus workflow resume RUN --force'",
        )
    spec = entry["command"]
    cwd = command_cwd(spec, ex.hub.project_root, execution_dir(ex))
    log_path = ex.hub.paths.run_dir(ex.run.id) / f"{pid}.command.log"
    result = await asyncio.to_thread(
        run_command_phase, spec, phase_id=pid, cwd=cwd, log_path=log_path, env=dict(ex.env)
    )
    result["attempt"] = attempt
    ex.steps.effect_done("command")
    ex.steps.commit("command", ordinal, result)
    return result


def _manual_gate(ex: WorkflowExecution, entry: dict[str, Any], attempt: int) -> dict[str, Any]:
    pid = str(entry["id"])
    control = ex.stored_control()
    verdict = control.get("manual_verdict")
    if isinstance(verdict, dict) and verdict.get("phase_id") == pid:
        ex.state["manual"] = None
        ex.state["consumed_control"] = True
        approved = bool(verdict.get("approved"))
        feedback = str(verdict.get("feedback") or "")
        reason = feedback or ("approved" if approved else "rejected")
        by = verdict.get("by") or "operator"
        return {
            "mode": "manual",
            "phase_id": pid,
            "attempt": attempt,
            "output": f"{'approved' if approved else 'rejected'} by {by}: {reason}",
            "approved": approved,
            "decision": {
                "kind": "phase_decision",
                "phase_id": pid,
                "verdict": "advance" if approved else "rework",
                "confidence": 1.0,
                "risk": "low",
                "reason": reason,
                "evidence": [{"kind": "manual_verification", "description": reason}],
            },
        }
    spec = entry.get("manual") or {}
    ex.state["manual"] = {
        "phase_id": pid,
        "attempt": attempt,
        "instructions": spec.get("instructions"),
        "approval_note_required": bool(spec.get("approval_note_required")),
        "since": utc_now_str(),
    }
    ex.run.machine_state = WorkflowMachineState.PAUSED
    ex.pause(
        f"waiting on manual gate {pid!r}: {spec.get('instructions') or ''}".strip(), manual=True
    )


def _commit_step(
    ex: WorkflowExecution, entry: dict[str, Any], attempt: int, ordinal: int, result: dict[str, Any]
) -> dict[str, Any] | None:
    if not managed_worktree(ex):
        return None
    pid = str(entry["id"])
    step = ex.steps.begin(pid, ordinal, attempt, "commit")
    if step.committed:
        return dict(step.result) if step.result else None
    decision = result.get("decision") or {}
    subject = ex.run.task_id or ex.run.subject.id or ex.run.id
    message = (
        entry.get("commit_message")
        or decision.get("commit_message")
        or f"animus: {pid} for {subject}"
    )
    if attempt > 1:
        message = f"{message} (attempt {attempt})"
    done = commit_changes(
        execution_dir(ex),
        message,
        identity=git_identity(ex),
        trailers={"Animus-Run": ex.run.id, "Animus-Phase": f"{pid}/{attempt}"},
    )
    ex.steps.effect_done("commit")
    data = done.model_dump(mode="json")
    ex.steps.commit("commit", ordinal, data)
    return data


# -- the end of a phase ---------------------------------------------------------------------


def _decision_record(result: dict[str, Any], pid: str) -> WorkflowDecisionRecord:
    from animus_workflow_runner.engine import decision_record_from

    record = decision_record_from(result, pid)
    if result.get("mode") in ("command", "manual"):
        record.source = (
            DecisionSource.FALLBACK if result.get("mode") == "command" else DecisionSource.LLM
        )
    return record


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


def _route(
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


def _budget_route(ex: WorkflowExecution, pid: str, entry: dict[str, Any]) -> Route | None:
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


def _end_phase(
    ex: WorkflowExecution,
    index: int,
    *,
    entry: dict[str, Any],
    attempt: int,
    result: dict[str, Any],
    commit: dict[str, Any] | None,
) -> Route:
    pid = str(entry["id"])
    record = _decision_record(result, pid)
    decision = result.get("decision") or {}
    verdict = str(decision.get("verdict") or record.decision.value)
    output = str(result.get("output") or "")
    # usage
    tokens = int(result.get("tokens_total") or 0)
    cost = float(result.get("cost_usd") or 0.0)
    usage = ex.state["usage"]
    usage["tokens"] = int(usage["tokens"]) + tokens
    usage["cost_usd"] = float(usage["cost_usd"]) + cost
    pu = usage["phases"].setdefault(pid, {"tokens": 0, "cost_usd": 0.0})
    pu["tokens"] = int(pu["tokens"]) + tokens
    pu["cost_usd"] = float(pu["cost_usd"]) + cost
    # the output file, then its completion marker
    write_phase_output(
        ex.hub.paths.phase_outputs_dir(ex.run.id),
        pid,
        {
            "phase_id": pid,
            "attempt": attempt,
            "mode": entry["mode"],
            "verdict": verdict,
            "decision": decision or None,
            "decision_record": record.to_wire(),
            "output": output,
            "commit": commit,
            "tokens": tokens,
            "cost_usd": cost,
            "completed_at": utc_now_str(),
            **({"exit_code": result.get("exit_code")} if entry["mode"] == "command" else {}),
            **({"json": result.get("json")} if "json" in result else {}),
        },
    )
    route = _route(ex, index, entry, record, verdict)
    budget = _budget_route(ex, pid, entry)
    ex.record_decision(record)
    ex.state["outputs"][pid] = {
        "summary": output[-_SUMMARY_CHARS:],
        "verdict": verdict,
        "attempt": attempt,
    }
    ex.state["phase_attempts"][pid] = attempt
    ex.state["ordinal"] = int(ex.state["in_phase"]["ordinal"]) + 2
    ex.state["in_phase"] = None
    rework = ex.state.get("rework")
    if rework and rework.get("target") == pid:
        ex.state["rework"] = None
    exec_record = ex.run.phases[index]
    exec_record.completed_at = utc_now()
    failed = record.decision is DecisionAction.FAIL
    exec_record.status = PhaseExecutionStatus.FAILED if failed else PhaseExecutionStatus.SUCCESS
    exec_record.error_message = record.reason if failed else None
    ex.run.machine_state = WorkflowMachineState.EVALUATE_TRANSITION
    if (
        route.kind == "goto"
        and route.reason
        and record.decision in (DecisionAction.REWORK, DecisionAction.REPEAT)
    ):
        tgt = route.reason
        count = int(ex.run.rework_counts.get(tgt, 0)) + 1
        ex.run.rework_counts[tgt] = count
        ex.run.total_reworks += 1
        limit = entry.get("max_rework_attempts")
        ex.state["rework"] = {
            "target": tgt,
            "from_phase": pid,
            "reason": record.reason,
            "evidence": decision.get("evidence") or [],
            "guardrail_violations": list(record.guardrail_violations),
            "attempt": count,
            "max_attempts": DEFAULT_MAX_REWORK if limit is None else int(limit),
        }
        route.reason = None
    record.target_phase = record.target_phase or (
        ex.definition.phases[route.target_index]["id"] if route.target_index is not None else None
    )
    if route.kind in ("next", "goto", "complete"):
        ex.run.current_phase_index = (
            index + 1
            if route.kind == "next"
            else len(ex.definition.phases)
            if route.kind == "complete"
            else int(route.target_index or 0)
        )
    if budget is not None and route.kind in ("next", "goto", "complete"):
        route = budget
    control = None
    if ex.state.pop("consumed_control", False):
        control = ex.stored_control()
        control.pop("manual_verdict", None)
    if route.kind in ("next", "goto", "complete"):
        ex.save(control=control)
        ex.checkpoint(CheckpointReason.STATUS_CHANGE, pid)
    elif control is not None:
        ex.save(control=control)
    _emit_phase_end(
        ex,
        pid,
        entry=entry,
        attempt=attempt,
        record=record,
        verdict=verdict,
        result=result,
        commit=commit,
        route=route,
    )
    return route


def _emit_phase_end(
    ex: WorkflowExecution,
    pid: str,
    *,
    entry: dict[str, Any],
    attempt: int,
    record: WorkflowDecisionRecord,
    verdict: str,
    result: dict[str, Any],
    commit: dict[str, Any] | None,
    route: Route,
) -> None:
    ex.events.emit(
        "phase_decision",
        {
            "attempt": attempt,
            "verdict": verdict,
            "action": record.decision.value,
            "reason": record.reason,
            "confidence": record.confidence,
            "risk": record.risk.value if isinstance(record.risk, Risk) else record.risk,
            "target_phase": record.target_phase,
            "guardrail_violations": list(record.guardrail_violations),
        },
        pid,
    )
    kind = "phase_failed" if record.decision is DecisionAction.FAIL else "phase_completed"
    ex.events.emit(
        kind,
        {
            "attempt": attempt,
            "mode": entry["mode"],
            "verdict": verdict,
            "commit": (commit or {}).get("commit") if (commit or {}).get("committed") else None,
            "exit_code": result.get("exit_code"),
        },
        pid,
    )
    rework = ex.state.get("rework")
    if (
        rework
        and rework.get("from_phase") == pid
        and record.decision in (DecisionAction.REWORK, DecisionAction.REPEAT)
    ):
        ex.events.emit(
            "rework",
            {
                "target": rework["target"],
                "count": rework["attempt"],
                "max_attempts": rework["max_attempts"],
                "reason": rework["reason"],
            },
            pid,
        )
    ex.history(
        "phase-" + ("failed" if kind == "phase_failed" else "completed"),
        f"{pid}: {verdict} — {record.reason}"[:500],
        phase_id=pid,
        attempt=attempt,
    )
