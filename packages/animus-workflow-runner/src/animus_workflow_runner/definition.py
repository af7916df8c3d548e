"""Loading and validating the workflow a run executes, before anything starts.

The project's YAML is loaded and validated by ``animus_config`` (unknown phases, agents,
workflow references and verdict targets are :class:`ConfigError`\\ s with file:line); this
module adds what only the runner knows: the requested workflow exists, every ``skip_if``
parses, required variables are given. The result is the compiled workflow (sub-workflows
expanded, effective agent/runtime per phase) plus the agent profiles it uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_config import (
    ConfigDiagnostic,
    ConfigError,
    compile_workflow_config,
    compiled_workflow,
    load_workflow_config,
)
from animus_protocol.envelope import InvalidInputError
from animus_workflow_runner.conditions import Condition, ConditionError, parse_condition

__all__ = ["DEFAULT_WORKFLOW_REF", "WorkflowDefinition", "load_workflow", "resolve_workflow_ref"]

DEFAULT_WORKFLOW_REF = "standard"


@dataclass
class WorkflowDefinition:
    """One compiled workflow ready to run (JSON-able parts are snapshotted on the run)."""

    ref: str
    workflow: dict[str, Any]
    agents: dict[str, Any] = field(default_factory=dict)
    mcp_servers: dict[str, Any] = field(default_factory=dict)
    conditions: dict[int, list[Condition]] = field(default_factory=dict)

    @property
    def phases(self) -> list[dict[str, Any]]:
        phases: list[dict[str, Any]] = self.workflow["phases"]
        return phases

    def snapshot(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "workflow": self.workflow,
            "agents": self.agents,
            "mcp_servers": self.mcp_servers,
        }

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> WorkflowDefinition:
        definition = cls(
            ref=str(data["ref"]),
            workflow=dict(data["workflow"]),
            agents=dict(data.get("agents") or {}),
            mcp_servers=dict(data.get("mcp_servers") or {}),
        )
        definition.conditions = _parse_conditions(definition.phases, None)
        return definition


def resolve_workflow_ref(explicit: str | None, dispatch: str | None, default: str | None) -> str:
    """explicit (CLI / daemon) > the task's dispatch ref > ``default_workflow_ref`` > standard."""
    return explicit or dispatch or default or DEFAULT_WORKFLOW_REF


def _parse_conditions(phases: list[dict[str, Any]], locate: Any) -> dict[int, list[Condition]]:
    out: dict[int, list[Condition]] = {}
    problems: list[ConfigDiagnostic] = []
    for index, phase in enumerate(phases):
        parsed: list[Condition] = []
        for k, text in enumerate(phase.get("skip_if") or []):
            try:
                parsed.append(parse_condition(text))
            except ConditionError as exc:
                where = locate(phase, k) if locate else None
                problems.append(
                    ConfigDiagnostic.at(
                        "error",
                        f"invalid skip_if expression {text!r} of phase {phase['id']!r}: {exc}",
                        where,
                        f"phases.{phase['id']}.skip_if[{k}]",
                    )
                )
        if parsed:
            out[index] = parsed
    if problems:
        raise ConfigError(problems)
    return out


def load_workflow(
    project_root: Path,
    workflow_ref: str | None,
    *,
    env: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
) -> WorkflowDefinition:
    """Load, validate and compile the project's config and pick ``workflow_ref``.

    Raises :class:`ConfigError` (file:line) or :class:`InvalidInputError`; nothing is started.
    """
    loaded = load_workflow_config(project_root, env=env)
    compiled = compile_workflow_config(loaded)
    body = compiled.get("config", {})
    ref = resolve_workflow_ref(workflow_ref, None, body.get("default_workflow_ref"))
    workflow = compiled_workflow(compiled, ref)
    if workflow is None:
        known = [w.get("id") for w in body.get("workflows", [])]
        raise InvalidInputError(
            f"unknown workflow {ref!r}; known workflows: {', '.join(map(str, known)) or '(none)'}",
            details={"workflow_ref": ref, "known": known},
            hint="pick one of the known ids (see 'animus workflow config get') or define it "
            "in .animus/workflows.yaml",
        )
    definitions = loaded.config.workflows

    def locate(phase: dict[str, Any], k: int) -> Any:
        # Where this skip_if was written: the workflow entry that names the phase.
        for wi, wf in enumerate(definitions):
            for pi, entry in enumerate(wf.phases):
                if entry.id == phase["id"] and entry.skip_if:
                    return loaded.location(("workflows", wi, "phases", pi, "skip_if", k))
        return None

    definition = WorkflowDefinition(
        ref=ref,
        workflow=workflow,
        agents=dict(body.get("agents") or {}),
        mcp_servers=dict(body.get("mcp_servers") or {}),
    )
    definition.conditions = _parse_conditions(definition.phases, locate)
    missing = [
        v["name"]
        for v in workflow.get("variables") or []
        if v.get("required") and v["name"] not in (variables or {}) and v.get("default") is None
    ]
    if missing:
        raise InvalidInputError(
            f"workflow {ref!r} needs the variable(s) {', '.join(missing)}",
            details={"workflow_ref": ref, "missing": missing},
            hint="pass each with --var NAME=VALUE",
        )
    return definition


def default_variables(definition: WorkflowDefinition) -> dict[str, str]:
    """The workflow's declared variable defaults (given ``--var`` values override them)."""
    return {
        str(v["name"]): str(v["default"])
        for v in definition.workflow.get("variables") or []
        if v.get("default") is not None
    }
