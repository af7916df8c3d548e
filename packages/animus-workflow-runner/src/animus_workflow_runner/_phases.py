"""One phase of the loop: skip_if, the phase's durable steps, its output, routing, budgets.

The phase's attempt (and the step ordinal it starts at) is saved on the run when the phase
starts (``runner.in_phase``), so a runner that dies mid-phase replays exactly the same
steps on resume; the phase's end — decision, rework count, output, next cursor — is one
save of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from animus_workflow_runner._routing import (
    DEFAULT_MAX_REWORK,
    Route,
    budget_route,
    decision_record_from,
    retry_route,
    route_after,
)
from animus_workflow_runner._worktree import execution_dir, git_identity, managed_worktree
from animus_workflow_runner.command_phase import command_cwd, run_command_phase
from animus_workflow_runner.conditions import evaluate_any
from animus_workflow_runner.git import commit_changes
from animus_workflow_runner.outputs import write_phase_output

if TYPE_CHECKING:
    from animus_workflow_runner.engine import WorkflowExecution

__all__ = ["condition_context", "run_phase"]

_SUMMARY_CHARS = 4000


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
    ex.commit_point(
        CheckpointReason.STATUS_CHANGE, pid, history=("phase-skipped", f"{pid}: {text}")
    )
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


def _manual_gate(  # noqa: RET503 - ex.pause() never returns (NoReturn)
    ex: WorkflowExecution, entry: dict[str, Any], attempt: int
) -> dict[str, Any]:
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
    reason = f"waiting on manual gate {pid!r}: {spec.get('instructions') or ''}".strip()
    ex.pause(reason, manual=True)  # raises: the run waits; the verdict arrives on resume


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
    record = decision_record_from(result, pid)
    if result.get("mode") in ("command", "manual"):
        record.source = (
            DecisionSource.FALLBACK if result.get("mode") == "command" else DecisionSource.LLM
        )
    return record


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
    route = retry_route(ex, index, entry, result) or route_after(ex, index, entry, record, verdict)
    budget = budget_route(ex, pid, entry)
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
    failed = record.decision is DecisionAction.FAIL
    history = (
        "phase-failed" if failed else "phase-completed",
        f"{pid}: {verdict} — {record.reason}"[:500],
    )
    if route.kind in ("next", "goto", "complete"):
        ex.commit_point(CheckpointReason.STATUS_CHANGE, pid, control=control, history=history)
    else:
        if control is not None:
            ex.save(control=control)
        ex.history(*history)
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
