"""The agent step of an agent phase: one journaled attempt, and how an interrupted one resumes.

A replayed step whose result was committed is never run again (its verdict is reused). An
interrupted one (intent recorded, no result) is recovered in this order:

1. the session finished (``<phase>.session.json`` says ``completed`` for this attempt): its
   output is harvested from ``runs/<run>/events.jsonl``, nothing runs again;
2. the session has an id but did not finish: it continues through ``agent/resume``;
3. no session was started: an ``idempotent`` phase runs again; a ``sideeffecting`` or
   ``unknown`` one stops with a ConflictError naming the phase, the step and ``--force``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from animus_agent_runner import (
    AgentPhaseResult,
    decide,
    parse_phase_decision,
    read_session_file,
    session_file_path,
)
from animus_protocol.envelope import ConflictError

__all__ = ["harvest_finished_session", "recovery_plan", "result_payload"]


def result_payload(result: AgentPhaseResult) -> dict[str, Any]:
    data = result.to_dict()
    data["mode"] = "agent"
    data["tokens_total"] = result.tokens.total
    return data


def recovery_plan(
    *,
    run_dir: Path,
    phase_id: str,
    attempt: int,
    idempotency: str,
    force: bool,
    prior_status: str | None,
) -> str:
    """``fresh`` | ``harvest`` | ``resume`` | ``rerun`` for a step that was begun before."""
    if prior_status not in ("intent", "failed"):
        return "fresh"
    saved = None
    try:
        saved = read_session_file(session_file_path(run_dir, phase_id))
    except Exception:
        saved = None
    if saved is not None and saved.attempt == attempt and saved.session_id:
        if saved.status == "completed" and prior_status == "intent":
            return "harvest"
        if saved.status != "completed":
            return "resume"
    if prior_status == "failed" or idempotency == "idempotent" or force:
        return "rerun"
    raise ConflictError(
        f"phase {phase_id!r} (attempt {attempt}) was interrupted inside its agent step before "
        f"the agent session started or was recorded, and the phase is {idempotency}: running "
        "it again could repeat its side effects",
        details={
            "phase_id": phase_id,
            "step": "agent",
            "attempt": attempt,
            "idempotency": idempotency,
        },
        hint="check the worktree, then run 'animus workflow resume RUN --force' to run the "
        "phase again (or mark the phase idempotency: idempotent)",
    )


def harvest_finished_session(
    run_dir: Path, phase_id: str, attempt: int, contract: Any
) -> dict[str, Any] | None:
    """Rebuild the result of a session that finished before the runner died."""
    events = run_dir / "events.jsonl"
    if not events.exists():
        return None
    records: list[dict[str, Any]] = []
    with events.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("phase_id") != phase_id or rec.get("attempt") != attempt:
                continue
            if rec.get("type") == "started":
                records = []
            records.append(rec)
    if not any(r.get("type") == "finished" for r in records):
        return None
    chunks = [r["payload"] for r in records if r.get("type") == "output_chunk"]
    finals = [c.get("text") or "" for c in chunks if c.get("final")]
    output = finals[-1] if finals else "\n".join(str(c.get("text") or "") for c in chunks)
    tokens: dict[str, Any] = {}
    cost: float | None = None
    session_id = None
    for r in records:
        session_id = r.get("session_id") or session_id
        if r.get("type") == "metadata":
            tokens = dict(r["payload"].get("tokens") or {})
            cost = r["payload"].get("cost")
    decision = parse_phase_decision(output, phase_id)
    record, violations = decide(decision, contract, phase_id=phase_id)
    total = int(tokens.get("input", 0)) + int(tokens.get("output", 0))
    return {
        "mode": "agent",
        "status": "completed",
        "phase_id": phase_id,
        "attempt": attempt,
        "output": output,
        "decision": decision.to_wire() if decision else None,
        "decision_record": record.to_wire(),
        "session_id": session_id,
        "tokens": tokens,
        "tokens_total": total,
        "cost_usd": cost,
        "guardrail_violations": violations,
        "errors": [],
        "harvested": True,
    }
