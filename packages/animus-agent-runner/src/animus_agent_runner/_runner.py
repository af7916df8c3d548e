"""`AgentPhaseRunner`: one agent phase attempt through the session host.

Order of work: resolve tool and model → runtime contract → prompt → ``agent/run`` (or
``agent/resume`` with the saved session id) in the phase's cwd → every event to
``runs/<run-id>/events.jsonl`` and the live callback → ``<phase>.session.json`` when the
session id is first known and at the end → decision extraction and contract checks →
tokens and cost. A phase timeout or a cancel (explicit :meth:`AgentPhaseRunner.cancel` or
an asyncio cancel of :meth:`AgentPhaseRunner.run`) reaches ``SessionHost.cancel``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_agent_runner._contract import as_decision_contract, decide
from animus_agent_runner._events import RunEventCallback, RunEventWriter, event_type_and_payload
from animus_agent_runner._models import AgentPhaseRequest, AgentPhaseResult, PhaseStatus
from animus_agent_runner._outcome import (
    SESSION_STATUS,
    SessionOutcome,
    decision_from_verdict,
    outcome_of,
    usage_and_cost,
)
from animus_agent_runner._params import (
    build_run_params,
    checked_cwd,
    field_of,
    first_set,
    phase_timeout,
)
from animus_agent_runner._selection import ToolSelection, resolve_tool_and_model
from animus_agent_runner._session_file import (
    PhaseSessionRecord,
    SessionStatus,
    read_session_file,
    session_file_path,
    validate_phase_id,
    write_session_file,
)
from animus_agent_runner.decision import parse_phase_decision
from animus_plugin_protocol.kinds.provider import AgentRunResponse
from animus_protocol.envelope import InvalidInputError
from animus_protocol.paths import ScopePaths
from animus_protocol.statuses import DecisionAction, DecisionSource
from animus_protocol.timeutil import utc_now_str
from animus_protocol.workflow import PhaseDecision, WorkflowDecisionRecord
from animus_session_host import (
    SessionEvent,
    SessionHost,
    SessionNotFoundError,
    provider_plugin_name,
)

__all__ = ["AgentPhaseRunner", "run_agent_phase"]

log = logging.getLogger("animus.agent_runner")

# How long a cancel waits for the provider to name its session before giving up on a
# graceful agent/cancel and abandoning the turn.
SESSION_ID_GRACE = 2.0
# Upper bound on waiting for a cancelled turn to unwind (SessionHost.cancel is itself
# bounded by its grace period plus a process-group kill).
UNWIND_LIMIT = 10.0


@dataclass(eq=False)  # identity-hashed: kept in the runner's set of live attempts
class _Attempt:
    """Mutable state of one running attempt (shared with the event callback)."""

    request: AgentPhaseRequest
    selection: ToolSelection
    events: RunEventWriter
    session_path: Path
    started_at: str
    session_id: str | None = None
    cancel_requested: asyncio.Event = field(default_factory=asyncio.Event)
    session_known: asyncio.Event = field(default_factory=asyncio.Event)
    running_write: asyncio.Future[None] | None = None

    def save_running(self) -> None:
        """Record ``running`` off the event loop: the agent keeps streaming while the
        file is fsynced (it is what a resume after a crash needs)."""
        record = self.record("running")
        self.running_write = asyncio.ensure_future(
            asyncio.to_thread(write_session_file, self.session_path, record)
        )

    async def save_final(self, status: SessionStatus, reason: str | None = None) -> None:
        """Record the end state, after (never before) the ``running`` record."""
        if self.running_write is not None:
            try:
                await self.running_write
            except Exception:
                log.exception("writing %s failed", self.session_path)
        record = self.record(status, reason)
        await asyncio.to_thread(write_session_file, self.session_path, record)

    def record(self, status: SessionStatus, reason: str | None = None) -> PhaseSessionRecord:
        return PhaseSessionRecord(
            provider=provider_plugin_name(self.selection.tool),
            tool=self.selection.tool,
            model=self.selection.model,
            session_id=self.session_id,
            status=status,
            started_at=self.started_at,
            updated_at=utc_now_str(),
            attempt=self.request.attempt,
            run_id=self.request.run_id,
            phase_id=self.request.phase_id,
            reason=reason,
        )


class AgentPhaseRunner:
    """Runs agent phase attempts through ``session_host``, recording under ``scope_paths``."""

    def __init__(
        self,
        session_host: SessionHost,
        scope_paths: ScopePaths,
        *,
        on_event: RunEventCallback | None = None,
        session_id_grace: float = SESSION_ID_GRACE,
    ) -> None:
        self.session_host = session_host
        self.session_id_grace = session_id_grace
        self.scope_paths = scope_paths
        self.on_event = on_event
        self._attempts: set[_Attempt] = set()

    def cancel(self) -> None:
        """Ask every running attempt of this runner to stop; each ends ``cancelled``."""
        for attempt in list(self._attempts):
            attempt.cancel_requested.set()

    # -- the attempt ---------------------------------------------------------------------------

    async def run(
        self, request: AgentPhaseRequest, *, on_event: RunEventCallback | None = None
    ) -> AgentPhaseResult:
        """Run one attempt; every failure mode is a result, bad input an InvalidInputError."""
        validate_phase_id(request.run_id, "run id")
        validate_phase_id(request.phase_id)
        if request.attempt < 1:
            raise InvalidInputError(f"attempt must be >= 1, not {request.attempt}")
        cwd = checked_cwd(request)
        run_dir = self.scope_paths.run_dir(request.run_id)
        session_path = session_file_path(run_dir, request.phase_id)
        selection = resolve_tool_and_model(
            cli_tool=request.cli_tool,
            cli_model=request.cli_model,
            phase=request.phase,
            agent_profile=request.agent_profile,
            phase_routing=request.phase_routing,
            default_tool=request.default_tool,
        )
        saved: PhaseSessionRecord | None = None
        if request.resume:
            saved = read_session_file(session_path)
            if saved is None or not saved.session_id:
                raise InvalidInputError(
                    f"phase {request.phase_id} of run {request.run_id} has no saved session "
                    f"to resume ({session_path} is missing or names no session id)",
                    details={"session_file": str(session_path)},
                )
            # The session lives in the provider that started it.
            selection = ToolSelection(saved.tool, saved.model, selection.source, "provider")
        contract_rules = as_decision_contract(
            first_set(request.decision_contract, field_of(request.phase, "decision_contract"))
        )
        events = RunEventWriter(
            run_dir / "events.jsonl",
            run_id=request.run_id,
            phase_id=request.phase_id,
            attempt=request.attempt,
            callback=on_event or self.on_event,
        )
        attempt = _Attempt(request, selection, events, session_path, utc_now_str())
        if saved is not None:
            attempt.session_id = saved.session_id
            events.session_id = saved.session_id
        params = build_run_params(
            request,
            selection,
            cwd,
            saved.session_id if saved else None,
            self.scope_paths.project_root,
        )
        timeout = phase_timeout(request)
        self._attempts.add(attempt)
        started = time.monotonic()
        try:
            await events.emit(
                "started",
                {
                    "tool": selection.tool,
                    "model": selection.model,
                    "source": selection.source,
                    "resume": request.resume,
                    "cwd": str(cwd),
                    "timeout_secs": timeout,
                },
            )
            if saved is not None:
                attempt.save_running()
            try:
                outcome = await self._drive(attempt, params, timeout)
            except asyncio.CancelledError:
                # An asyncio cancel of run(): the session was stopped in _drive; record it.
                duration = int((time.monotonic() - started) * 1000)
                with contextlib.suppress(Exception):
                    await events.emit(
                        "finished",
                        {"status": "cancelled", "exit_code": None, "duration_ms": duration},
                    )
                with contextlib.suppress(Exception):
                    await attempt.save_final("cancelled", "cancelled")
                raise
            duration = int((time.monotonic() - started) * 1000)
            return await self._finish(attempt, outcome, contract_rules, duration)
        finally:
            self._attempts.discard(attempt)

    async def _on_session_event(self, attempt: _Attempt, event: SessionEvent) -> None:
        if attempt.session_id is None and event.session_id:
            attempt.session_id = event.session_id
            attempt.events.session_id = event.session_id
            attempt.save_running()
            attempt.session_known.set()
        event_type, payload = event_type_and_payload(event)
        await attempt.events.emit(event_type, payload)

    async def _drive(
        self,
        attempt: _Attempt,
        params: dict[str, Any],
        timeout: float | None,  # noqa: ASYNC109 - the phase's own deadline
    ) -> SessionOutcome:
        host, tool = self.session_host, attempt.selection.tool

        async def on_event(event: SessionEvent) -> None:
            await self._on_session_event(attempt, event)

        if attempt.request.resume and attempt.session_id:
            call = host.resume(tool, attempt.session_id, params, on_event)
        else:
            call = host.run(tool, params, on_event)
        turn: asyncio.Task[AgentRunResponse] = asyncio.ensure_future(call)
        stop = asyncio.ensure_future(attempt.cancel_requested.wait())
        try:
            done, _ = await asyncio.wait(
                {turn, stop}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            stop.cancel()
            await asyncio.shield(self._stop(attempt, turn))
            raise
        stop.cancel()
        if turn in done:
            return outcome_of(turn)
        reason: PhaseStatus = "cancelled" if attempt.cancel_requested.is_set() else "timeout"
        await self._stop(attempt, turn)
        if turn.done() and not turn.cancelled() and turn.exception() is None:
            # The turn finished in the same instant; keep its answer.
            return outcome_of(turn)
        if reason == "timeout":
            return SessionOutcome(
                "timeout",
                errors=[f"phase {attempt.request.phase_id} timed out after {timeout:g}s"],
                retryable=True,
                category="timeout",
            )
        return SessionOutcome("cancelled", errors=["cancelled"], category="cancelled")

    async def _stop(self, attempt: _Attempt, turn: asyncio.Task[AgentRunResponse]) -> None:
        """End a running turn through SessionHost.cancel (the provider stops its agent)."""
        if turn.done():
            return
        if attempt.session_id is None:
            known = asyncio.ensure_future(attempt.session_known.wait())
            try:
                await asyncio.wait(
                    {turn, known},
                    timeout=self.session_id_grace,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                known.cancel()
        if attempt.session_id is not None and not turn.done():
            try:
                await self.session_host.cancel(attempt.session_id)
            except SessionNotFoundError:
                pass  # it ended on its own meanwhile
            except Exception:
                log.exception("cancelling session %s failed", attempt.session_id)
        if not turn.done():
            # No session id to cancel by (or the provider ignored it): abandon the turn.
            turn.cancel()
        await asyncio.wait({turn}, timeout=UNWIND_LIMIT)
        if turn.done() and not turn.cancelled():
            turn.exception()  # retrieved, so asyncio does not log it as unhandled

    async def _finish(
        self,
        attempt: _Attempt,
        outcome: SessionOutcome,
        contract: Any,
        duration_ms: int,
    ) -> AgentPhaseResult:
        request, selection = attempt.request, attempt.selection
        response = outcome.response
        if response is not None and attempt.session_id is None:
            attempt.session_id = response.session_id
            attempt.events.session_id = response.session_id
        output = response.output if response is not None else ""
        tokens, cost, cost_source = usage_and_cost(response, selection.model)
        if tokens.total or cost is not None:
            await attempt.events.emit("metadata", {"cost": cost, "tokens": tokens.to_dict()})
        decision: PhaseDecision | None = None
        violations: list[str] = []
        if outcome.status == "completed" and response is not None:
            decision = parse_phase_decision(output, request.phase_id)
            if decision is None and response.decision_verdict is not None:
                decision = decision_from_verdict(response.decision_verdict, request.phase_id)
            record, violations = decide(decision, contract, phase_id=request.phase_id)
            if decision is not None:
                await attempt.events.emit(
                    "decision",
                    {
                        "verdict": decision.verdict.value,
                        "confidence": decision.confidence,
                        "risk": decision.risk.value,
                        "reason": decision.reason,
                        "action": record.decision.value,
                        "guardrail_violations": violations,
                    },
                )
        else:
            record = WorkflowDecisionRecord(
                phase_id=request.phase_id,
                source=DecisionSource.FALLBACK,
                decision=DecisionAction.FAIL,
                reason=f"agent session {outcome.status}: {'; '.join(outcome.errors)}",
            )
        exit_code = response.exit_code if response is not None else None
        await attempt.events.emit(
            "finished",
            {
                "status": outcome.status,
                "exit_code": exit_code,
                "duration_ms": duration_ms,
                "errors": outcome.errors,
            },
        )
        session_status = SESSION_STATUS[outcome.status]
        await attempt.save_final(session_status, "timeout" if outcome.status == "timeout" else None)
        return AgentPhaseResult(
            status=outcome.status,
            run_id=request.run_id,
            phase_id=request.phase_id,
            attempt=request.attempt,
            output=output,
            decision=decision,
            decision_record=record,
            session_id=attempt.session_id,
            tool=selection.tool,
            model=selection.model,
            tokens=tokens,
            cost_usd=cost,
            duration_ms=duration_ms,
            exit_code=exit_code,
            errors=outcome.errors,
            guardrail_violations=violations,
            retryable=outcome.retryable,
            error_category=outcome.category,
            cost_source=cost_source,
            selection_source=selection.source,
            events_path=attempt.events.path,
            session_path=attempt.session_path,
        )


def run_agent_phase(
    request: AgentPhaseRequest,
    *,
    scope_paths: ScopePaths | None = None,
    project_root: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    on_event: RunEventCallback | None = None,
) -> AgentPhaseResult:
    """Synchronous :meth:`AgentPhaseRunner.run` with a session host of its own.

    ``project_root`` defaults to ``request.project_root`` then ``request.cwd``; the scope
    directory to ``ScopePaths.for_project(project_root, env)``.
    """
    root = Path(project_root or request.project_root or request.cwd)
    paths = scope_paths or ScopePaths.for_project(root, env)

    async def main() -> AgentPhaseResult:
        host = SessionHost(project_root=root, env=env)
        try:
            return await AgentPhaseRunner(host, paths).run(request, on_event=on_event)
        finally:
            await host.aclose()

    return asyncio.run(main())
