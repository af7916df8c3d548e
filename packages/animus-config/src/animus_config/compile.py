"""Compile a loaded configuration into ``config/workflow-config.v2.json``.

The compiled document is what the workflow runner and the daemon consume: sub-workflows are
expanded inline, defaults are filled, and every workflow phase carries its effective agent
and runtime (phase runtime > daemon phase_routing > agent profile > the tool's default
model). Output is deterministic: the same input gives byte-identical JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from animus_config._atomic import dump_json, write_bytes_atomic
from animus_config.loader import LoadedConfig
from animus_config.schema import (
    AgentProfile,
    FileWatcherConfig,
    ManualSpec,
    PhaseDefinition,
    WebhookConfig,
    WorkflowConfig,
    WorkflowDefinition,
    WorkflowPhaseEntry,
)
from animus_config.validate import expand_phase_entries
from animus_protocol.paths import ScopePaths

__all__ = [
    "COMPILED_SCHEMA",
    "COMPILED_VERSION",
    "DEFAULT_MODEL_FOR_TOOL",
    "DEFAULT_TOOL",
    "compile_workflow_config",
    "compiled_workflow",
    "write_compiled",
]

COMPILED_SCHEMA = "animus.workflow-config.v2"
COMPILED_VERSION = 2
DEFAULT_TOOL = "claude"
DEFAULT_MODEL_FOR_TOOL = {
    "claude": "claude-sonnet-4-6",
    "codex": "gpt-5.4",
    "gemini": "gemini-2.5-pro",
    "opencode": "zai-coding-plan/glm-5",
    "oai-runner": "openrouter/minimax/minimax-m2.7",
}
_RUNTIME_FROM_AGENT = (
    "tool_profile",
    "reasoning_effort",
    "permission_mode",
    "timeout_secs",
    "max_attempts",
    "fallback_models",
    "fallback_tools",
    "extra_args",
    "codex_config_overrides",
    "max_continuations",
    "web_search",
    "network_access",
)


def _dump(model: Any) -> Any:
    return None if model is None else model.model_dump(mode="json", exclude_none=True)


def _runtime(
    config: WorkflowConfig, phase_id: str, phase: PhaseDefinition, agent: AgentProfile | None
) -> dict[str, Any]:
    override = phase.runtime
    routing = config.daemon.phase_routing.get(phase_id)
    tool = (
        (override.tool if override else None)
        or (routing.tool if routing else None)
        or (agent.tool if agent else None)
        or phase.default_tool
        or DEFAULT_TOOL
    )
    model = (
        (override.model if override else None)
        or (routing.model if routing else None)
        or (agent.model if agent else None)
        or DEFAULT_MODEL_FOR_TOOL.get(tool)
    )
    runtime: dict[str, Any] = {"tool": tool, "model": model}
    for name in _RUNTIME_FROM_AGENT:
        value = getattr(override, name, None) if override else None
        if value is None and agent is not None:
            value = getattr(agent, name)
        if value is not None and value != []:
            runtime[name] = value
    return {k: v for k, v in runtime.items() if v is not None}


def _phase(config: WorkflowConfig, entry: WorkflowPhaseEntry, origin: str | None) -> dict[str, Any]:
    assert entry.id is not None
    phase = config.phases[entry.id]
    agent_id = entry.agent or phase.agent
    agent = config.agents.get(agent_id) if agent_id else None
    out: dict[str, Any] = {
        "id": entry.id,
        "mode": phase.mode,
        "idempotency": phase.idempotency,
        "max_rework_attempts": entry.max_rework_attempts,
        "skip_if": list(entry.skip_if),
        "on_verdict": _dump(entry.on_verdict),
        "budget": _dump(entry.budget or phase.budget),
        "commit_message": phase.commit_message,
        "retry": _dump(phase.retry),
        "worktree": _dump(phase.worktree),
        "evals": _dump(phase.evals),
    }
    if origin is not None:
        out["from_workflow"] = origin
    if phase.mode == "agent":
        out.update(
            agent=agent_id,
            directive=phase.directive,
            system_prompt=entry.system_prompt_override
            or phase.system_prompt
            or (agent.system_prompt if agent else None),
            runtime=_runtime(config, entry.id, phase, agent),
            skills=sorted(set(phase.skills) | set(agent.skills if agent else [])),
            mcp_servers=list(agent.mcp_servers) if agent else [],
            capabilities={**(agent.capabilities if agent else {}), **phase.capabilities},
            output_contract=_dump(phase.output_contract),
            output_json_schema=phase.output_json_schema,
            decision_contract=_dump(phase.decision_contract),
        )
    elif phase.mode == "command":
        out["command"] = _dump(phase.command)
    else:
        out["manual"] = _dump(phase.manual or ManualSpec())
    return {k: v for k, v in out.items() if v is not None}


def _workflow(
    config: WorkflowConfig, wf: WorkflowDefinition, by_entry: dict[int, str]
) -> dict[str, Any]:
    own = {id(e) for e in wf.phases}
    phases = [
        _phase(config, entry, None if id(entry) in own else by_entry.get(id(entry)))
        for entry in expand_phase_entries(config, wf)
    ]
    post_success = _dump(wf.post_success)
    return {
        k: v
        for k, v in {
            "id": wf.id,
            "name": wf.name or wf.id,
            "description": wf.description,
            "phases": phases,
            "variables": [_dump(v) for v in wf.variables],
            "worktree": _dump(wf.worktree),
            "budget": _dump(wf.budget),
            "post_success": post_success,
        }.items()
        if v is not None
    }


def _trigger_config(trigger_type: str, config: dict[str, Any]) -> dict[str, Any]:
    if trigger_type == "file_watcher":
        return FileWatcherConfig.model_validate(config).model_dump(mode="json", exclude_none=True)
    if trigger_type in ("webhook", "github_webhook"):
        return WebhookConfig.model_validate(config).model_dump(mode="json", exclude_none=True)
    return dict(config)


def compile_workflow_config(loaded: LoadedConfig) -> dict[str, Any]:
    """The ``animus.workflow-config.v2`` document for ``loaded`` (a plain JSON-able dict)."""
    config = loaded.config
    # Which workflow each phase entry object belongs to (marks entries from sub-workflows).
    owner = {id(e): wf.id for wf in config.workflows for e in wf.phases}
    body: dict[str, Any] = {
        "default_workflow_ref": config.default_workflow_ref
        or (config.workflows[0].id if config.workflows else None),
        "mcp_servers": {k: _dump(v) for k, v in config.mcp_servers.items()},
        "agents": {k: _dump(v) for k, v in config.agents.items()},
        "agent_channels": {k: _dump(v) for k, v in config.agent_channels.items()},
        "models": config.models,
        "phase_catalog": {k: _dump(v) for k, v in config.phase_catalog.items()},
        "phases": {k: _dump(v) for k, v in config.phases.items()},
        "workflows": [_workflow(config, wf, owner) for wf in config.workflows],
        "schedules": [_dump(s) for s in config.schedules],
        "triggers": [
            {**(_dump(t) or {}), "config": _trigger_config(t.type, t.config)}
            for t in config.triggers
        ],
        "daemon": config.daemon.model_dump(mode="json", exclude_none=True),
        "secrets": {k: _dump(v) for k, v in config.secrets.items()},
        "tools": config.tools,
        "tools_allowlist": list(config.tools_allowlist),
        "phase_mcp_bindings": config.phase_mcp_bindings,
        "integrations": config.integrations,
        "checkpoint_retention": _dump(config.checkpoint_retention),
        "evals": _dump(config.evals),
    }
    return {
        "schema": COMPILED_SCHEMA,
        "version": COMPILED_VERSION,
        "sources": [str(p) for p in loaded.sources],
        "config": {k: v for k, v in body.items() if v is not None},
    }


def compiled_workflow(compiled: dict[str, Any], workflow_ref: str | None) -> dict[str, Any] | None:
    """The resolved workflow ``workflow_ref`` (or the default one) of a compiled document."""
    body = compiled.get("config", {})
    ref = workflow_ref or body.get("default_workflow_ref")
    return next((w for w in body.get("workflows", []) if w.get("id") == ref), None)


def write_compiled(scope_paths: ScopePaths, compiled: dict[str, Any]) -> Path:
    """Write ``compiled`` to ``<scope>/config/workflow-config.v2.json`` atomically."""
    target = scope_paths.compiled_workflow_config
    write_bytes_atomic(target, dump_json(compiled))
    return target
