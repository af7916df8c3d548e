"""Running an agent phase attempt through the agent runner, as a durable step."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from animus_agent_runner import (
    AgentPhaseRequest,
    AgentPhaseRunner,
    PriorPhaseOutput,
    PromptContext,
    ReworkFeedback,
    SubjectInfo,
)
from animus_protocol.workflow import Evidence
from animus_workflow_runner._agent_step import (
    harvest_finished_session,
    recovery_plan,
    result_payload,
)

if TYPE_CHECKING:
    from animus_workflow_runner.engine import WorkflowExecution

__all__ = ["ANIMUS_MCP_SERVER", "phase_mcp_servers", "run_agent_step"]

ANIMUS_MCP_SERVER = "animus"
# What `animus mcp serve` needs to find the same state as this runner (the plugin host
# clears the provider's environment, and the CLI passes its own to the MCP server).
_ANIMUS_MCP_ENV = ("ANIMUS_HOME", "ANIMUS_CONFIG_DIR", "PYTHONPATH")
_SCOPE_FLAGS = ("--project-root", "--workflow-id", "--agent-id")

CONTROL_POLL_SECS = 0.25
# Agent events forwarded to the workflow event stream (the full log is events.jsonl).
_FORWARDED = {
    "started",
    "output_chunk",
    "tool_call",
    "tool_result",
    "error",
    "finished",
    "decision",
}


def _subject(ex: WorkflowExecution) -> SubjectInfo:
    if ex.task is not None:
        return SubjectInfo.from_task(ex.task)
    ref = ex.run.subject
    return SubjectInfo(
        id=str(ref.id or ex.run.id),
        title=str(getattr(ref, "title", None) or ref.id or ex.run.id),
        description=str(getattr(ref, "description", None) or ""),
        kind=str(ref.kind),
    )


def _prompt(ex: WorkflowExecution, entry: dict[str, Any]) -> PromptContext:
    pid = str(entry["id"])
    outputs = ex.state.get("outputs") or {}
    prior = [
        PriorPhaseOutput(
            phase_id=p["id"],
            summary=str(outputs[p["id"]]["summary"]),
            verdict=outputs[p["id"]].get("verdict"),
            attempt=outputs[p["id"]].get("attempt"),
        )
        for p in ex.definition.phases
        if p["id"] in outputs and p["id"] != pid
    ]
    rework = None
    pending = ex.state.get("rework")
    if pending and pending.get("target") == pid:
        rework = ReworkFeedback(
            from_phase=str(pending["from_phase"]),
            reason=str(pending.get("reason") or ""),
            attempt=int(pending["attempt"]),
            max_attempts=pending.get("max_attempts"),
            evidence=tuple(Evidence.from_wire(e) for e in pending.get("evidence") or []),
            guardrail_violations=tuple(pending.get("guardrail_violations") or []),
        )
    return PromptContext(
        phase_id=pid,
        subject=_subject(ex),
        directive=entry.get("directive"),
        workflow_ref=ex.run.workflow_ref,
        prior_outputs=prior,
        rework=rework,
        variables=dict(ex.run.vars),
        decision_contract=entry.get("decision_contract"),
    )


def _runs_animus_mcp_serve(server: Mapping[str, Any]) -> bool:
    """A declared entry that is ``animus mcp serve ...`` (the bootstrap config's ``animus``)."""
    command = server.get("command")
    args = list(server.get("args") or [])
    return (
        isinstance(command, str)
        and os.path.basename(command) == "animus"
        and args[:2] == ["mcp", "serve"]
    )


def _animus_server(
    declared: Mapping[str, Any] | None,
    *,
    project_root: str,
    run_id: str,
    agent_id: str,
    env: Mapping[str, str],
) -> dict[str, Any]:
    """``animus mcp serve`` scoped to this run, started by this interpreter.

    The runner cannot import animus-cli (a higher layer), so the entry is built here; it
    runs ``python -m animus_cli`` with the runner's own interpreter (same venv), so it needs
    no ``animus`` on PATH. Extra args of a declared ``animus mcp serve`` entry (e.g.
    ``--management``) are kept, and scope flags it already sets are not repeated.
    """
    extra = [str(a) for a in (declared or {}).get("args", [])][2:]
    args = ["-m", "animus_cli", "mcp", "serve", *extra]
    for flag, value in zip(_SCOPE_FLAGS, (project_root, run_id, agent_id), strict=True):
        if not any(a == flag or a.startswith(f"{flag}=") for a in extra):
            args += [flag, value]
    passed = {name: env[name] for name in _ANIMUS_MCP_ENV if env.get(name)}
    passed.update({str(k): str(v) for k, v in ((declared or {}).get("env") or {}).items()})
    return {"command": sys.executable, "args": args, "env": passed}


def phase_mcp_servers(
    entry: Mapping[str, Any],
    agent_profile: Mapping[str, Any] | None,
    declared: Mapping[str, Any],
    *,
    project_root: str,
    run_id: str,
    env: Mapping[str, str],
) -> dict[str, Any]:
    """The MCP servers an agent phase's session gets, by name.

    The servers the agent names (``agents.<id>.mcp_servers``, carried by the compiled
    phase) with their declared ``mcp_servers.<name>`` definitions, plus the built-in
    ``animus`` server scoped to the run (``--workflow-id`` = run id, ``--agent-id`` = agent
    id or phase id) unless the agent opts out (``animus_mcp: false``, which an explicit
    ``mcp_servers: []`` implies). A declared ``animus`` entry that runs something other than
    ``animus mcp serve`` replaces the built-in one as written.
    """
    profile = agent_profile or {}
    names = list(
        dict.fromkeys([*(entry.get("mcp_servers") or []), *(profile.get("mcp_servers") or [])])
    )
    servers: dict[str, Any] = {
        str(n): dict(declared[n]) for n in names if n != ANIMUS_MCP_SERVER and n in declared
    }
    if ANIMUS_MCP_SERVER in names or profile.get("animus_mcp") is not False:
        own = declared.get(ANIMUS_MCP_SERVER)
        if own is not None and not _runs_animus_mcp_serve(own):
            servers[ANIMUS_MCP_SERVER] = dict(own)
        else:
            servers[ANIMUS_MCP_SERVER] = _animus_server(
                own,
                project_root=project_root,
                run_id=run_id,
                agent_id=str(entry.get("agent") or entry["id"]),
                env=env,
            )
    return servers


def _runner(ex: WorkflowExecution) -> AgentPhaseRunner:
    if ex.agent_runner is None:
        from animus_session_host import SessionHost

        ex.sessions = ex.request.session_host or SessionHost(
            project_root=ex.hub.project_root, env=ex.env
        )

        def forward(record: dict[str, Any]) -> None:
            if record.get("type") in _FORWARDED:
                ex.events.emit(
                    "phase_event",
                    {
                        "type": record.get("type"),
                        "attempt": record.get("attempt"),
                        "payload": record.get("payload"),
                    },
                    record.get("phase_id"),
                )

        ex.agent_runner = AgentPhaseRunner(ex.sessions, ex.hub.paths, on_event=forward)
    runner: AgentPhaseRunner = ex.agent_runner
    return runner


async def _run_watched(ex: WorkflowExecution, request: AgentPhaseRequest) -> Any:
    """Run the attempt while watching the control field (pause/cancel reach the agent)."""
    runner = _runner(ex)
    turn = asyncio.ensure_future(runner.run(request))

    async def watch() -> None:
        while not turn.done():
            await asyncio.sleep(CONTROL_POLL_SECS)
            requested = ex.stored_control().get("requested_action")
            if requested in ("pause", "cancel") or ex.stop_request:
                ex.stop_request = ex.stop_request or str(requested)
                runner.cancel()
                return

    watcher = asyncio.ensure_future(watch())
    try:
        return await turn
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def run_agent_step(
    ex: WorkflowExecution, entry: dict[str, Any], attempt: int, ordinal: int
) -> dict[str, Any]:
    pid = str(entry["id"])
    step = ex.steps.begin(pid, ordinal, attempt, "agent")
    if step.committed:
        return dict(step.result)
    run_dir = ex.hub.paths.run_dir(ex.run.id)
    plan = recovery_plan(
        run_dir=run_dir,
        phase_id=pid,
        attempt=attempt,
        idempotency=str(entry.get("idempotency") or "unknown"),
        force=ex.request.force,
        prior_status=step.prior_status,
    )
    result: dict[str, Any] | None = None
    if plan == "harvest":
        result = harvest_finished_session(run_dir, pid, attempt, entry.get("decision_contract"))
        if result is not None:
            ex.events.emit("phase_harvested", {"attempt": attempt}, pid)
        else:
            plan = "resume"
    if result is None:
        agent_id = entry.get("agent")
        profile = ex.definition.agents.get(agent_id) if agent_id else None
        request = AgentPhaseRequest(
            run_id=ex.run.id,
            phase_id=pid,
            cwd=ex.state["worktree"]["path"],
            prompt=_prompt(ex, entry),
            attempt=attempt,
            phase=entry,
            agent_id=agent_id,
            agent_profile=profile,
            project_root=ex.hub.project_root,
            mcp_servers=phase_mcp_servers(
                entry,
                profile,
                ex.definition.mcp_servers,
                project_root=str(ex.hub.project_root),
                run_id=ex.run.id,
                env=ex.env,
            ),
            resume=plan == "resume",
        )
        outcome = await _run_watched(ex, request)
        if outcome.status == "cancelled" and ex.stop_request:
            ex.steps.fail(
                ordinal,
                {"reason": f"{ex.stop_request} requested", "session_id": outcome.session_id},
            )
            ex.check_control(boundary=True)
        result = result_payload(outcome)
    ex.steps.effect_done("agent")
    ex.steps.commit("agent", ordinal, result)
    return result
