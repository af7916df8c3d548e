"""From an :class:`AgentPhaseRequest` (and the phase / agent config it carries) to the
params the provider receives: prompt, system prompt, model, permission mode, timeout, env,
runtime contract, extras.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from animus_agent_runner._models import AgentPhaseRequest
from animus_agent_runner._prompt import PromptContext, render_prompt
from animus_agent_runner._runtime_contract import (
    ANIMUS_MCP_SERVER,
    _server_entry,
    build_runtime_contract,
)
from animus_agent_runner._selection import ToolSelection
from animus_plugin_protocol.kinds.provider import AgentRunRequest
from animus_protocol.envelope import InvalidInputError

__all__ = [
    "build_run_params",
    "checked_cwd",
    "field_of",
    "first_set",
    "phase_timeout",
    "session_mcp_server_names",
]


def field_of(obj: Any, name: str) -> Any:
    """``obj.name`` of a config model or ``obj[name]`` of a plain (compiled) mapping."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def first_set(*values: Any) -> Any:
    """The first value that is set (not None, not an empty list or string)."""
    return next((v for v in values if v is not None and v not in ([], "")), None)


def checked_cwd(request: AgentPhaseRequest) -> Path:
    cwd = Path(request.cwd)
    if not cwd.is_dir():
        raise InvalidInputError(
            f"phase {request.phase_id}: cwd {str(cwd)!r} is not a directory",
            details={"cwd": str(cwd)},
        )
    return cwd


def session_mcp_server_names(request: AgentPhaseRequest) -> list[str]:
    """The MCP servers the session gets: those the phase or agent names that
    ``request.mcp_servers`` defines, plus ``animus`` when the request carries its entry
    (the workflow runner adds it by default, scoped to the run) and the agent has not
    opted out with ``animus_mcp: false``; naming ``animus`` always includes it.
    """
    phase, agent = request.phase, request.agent_profile
    named = first_set(field_of(phase, "mcp_servers"), field_of(agent, "mcp_servers")) or []
    names = [str(n) for n in dict.fromkeys(named) if n in request.mcp_servers]
    wants_animus = field_of(agent, "animus_mcp") is not False or ANIMUS_MCP_SERVER in named
    if ANIMUS_MCP_SERVER in request.mcp_servers and wants_animus and ANIMUS_MCP_SERVER not in names:
        names.append(ANIMUS_MCP_SERVER)
    return names


def build_run_params(
    request: AgentPhaseRequest,
    selection: ToolSelection,
    cwd: Path,
    saved_session_id: str | None,
    project_root: Path,
) -> dict[str, Any]:
    """The ``agent/run`` / ``agent/resume`` params of one attempt (AgentRunRequest + extras)."""
    phase, agent = request.phase, request.agent_profile
    runtime = field_of(phase, "runtime")
    prompt = request.prompt
    if isinstance(prompt, PromptContext):
        # The phase fills what the caller's context leaves open, so the prompt states
        # the same contract the decision is checked against.
        prompt = replace(
            prompt,
            directive=first_set(prompt.directive, field_of(phase, "directive")),
            decision_contract=first_set(
                prompt.decision_contract,
                request.decision_contract,
                field_of(phase, "decision_contract"),
            ),
        )
        prompt_text = render_prompt(prompt)
    else:
        prompt_text = str(prompt)
    system_prompt = first_set(
        request.system_prompt, field_of(phase, "system_prompt"), field_of(agent, "system_prompt")
    )
    permission_mode = first_set(
        field_of(runtime, "permission_mode"), field_of(agent, "permission_mode")
    )
    capabilities = {
        **(field_of(agent, "capabilities") or {}),
        **(field_of(phase, "capabilities") or {}),
    }
    mcp_names = session_mcp_server_names(request)
    contract = build_runtime_contract(
        tool=selection.tool,
        model=selection.model,
        run_id=request.run_id,
        phase_id=request.phase_id,
        agent_id=request.agent_id or field_of(phase, "agent"),
        session_id=saved_session_id,
        resume=saved_session_id is not None,
        permission_mode=permission_mode,
        extra_args=first_set(field_of(runtime, "extra_args"), field_of(agent, "extra_args")) or [],
        capabilities=capabilities,
        mcp_server_names=mcp_names,
        mcp_servers=request.mcp_servers,
    )
    timeout = phase_timeout(request)
    wire = AgentRunRequest(
        prompt=prompt_text,
        cwd=str(cwd),
        model=selection.model,
        system_prompt=system_prompt,
        permission_mode=permission_mode,
        project_root=str(request.project_root or project_root),
        timeout_secs=math.ceil(timeout) if timeout else None,
        env=dict(request.env),
        # What the provider really launches the CLI with (--mcp-config / -c mcp_servers.*).
        mcp_servers={n: _server_entry(request.mcp_servers[n]) for n in mcp_names} or None,
        runtime_contract=contract,
    ).to_wire()
    effort = first_set(field_of(runtime, "reasoning_effort"), field_of(agent, "reasoning_effort"))
    if effort is not None:
        wire["reasoning_effort"] = effort
    wire["phase"] = request.phase_id  # lets scripted providers match per phase
    wire.update(request.extras)
    return wire


def phase_timeout(request: AgentPhaseRequest) -> float | None:
    """The attempt's deadline in seconds: request > phase runtime > agent profile."""
    value = first_set(
        request.timeout_secs,
        field_of(field_of(request.phase, "runtime"), "timeout_secs"),
        field_of(request.agent_profile, "timeout_secs"),
    )
    if value is None:
        return None
    seconds = float(value)
    if not seconds > 0:
        raise InvalidInputError(f"timeout_secs must be positive, not {value!r}")
    return seconds
