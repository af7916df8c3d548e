"""Cross-reference validation: everything a schema alone cannot check.

Unknown phases, agents, MCP servers and workflow references; verdict targets that are not a
phase of the workflow; sub-workflow cycles; mode-specific blocks; trigger configs. Every
finding carries file:line:column from the source map, and all findings are collected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError

from animus_config._diagnostics import (
    ConfigDiagnostic,
    ConfigError,
    FieldPath,
    SourceLocation,
    SourceMap,
)
from animus_config._pydantic_errors import diagnostics_from_validation_error
from animus_config.schema import (
    FileWatcherConfig,
    WebhookConfig,
    WorkflowConfig,
    WorkflowDefinition,
    WorkflowPhaseEntry,
)

__all__ = [
    "BUILTIN_MCP_SERVERS",
    "ConfigDiagnostic",
    "ConfigError",
    "InvalidEntries",
    "SourceLocation",
    "expand_phase_entries",
    "validate_references",
]

BUILTIN_MCP_SERVERS = frozenset({"animus"})
_REMOVED_DAEMON_KEYS = {
    "auto_run_ready": "the daemon is queue-only; enqueue subjects instead",
    "auto_merge": "use a workflow's post_success.merge block",
    "auto_pr": "use post_success.merge.create_pr",
    "auto_commit_before_merge": "the runner commits each phase's work itself",
    "auto_prune_worktrees": "use worktree.cleanup / merge.cleanup_worktree",
    "idle_timeout_secs": "the daemon has no idle timeout",
    "max_task_retries": "no effect; use a phase's retry block",
    "retry_cooldown_secs": "no effect; use a phase's retry.backoff",
}

_TRIGGER_CONFIG_MODELS: dict[str, type[BaseModel]] = {
    "file_watcher": FileWatcherConfig,
    "webhook": WebhookConfig,
    "github_webhook": WebhookConfig,
}


def _known(names: list[str] | set[str]) -> str:
    listed = list(names) if isinstance(names, list) else sorted(names)
    return ", ".join(listed) if listed else "none defined"


def expand_phase_entries(
    config: WorkflowConfig, workflow: WorkflowDefinition
) -> list[WorkflowPhaseEntry]:
    """The workflow's phase entries with every ``workflow_ref`` expanded inline.

    Unknown or cyclic references are skipped here (validation reports them).
    """
    by_id = {w.id: w for w in config.workflows}

    def walk(wf: WorkflowDefinition, stack: tuple[str, ...]) -> list[WorkflowPhaseEntry]:
        out: list[WorkflowPhaseEntry] = []
        for entry in wf.phases:
            if entry.workflow_ref is None:
                out.append(entry)
                continue
            sub = by_id.get(entry.workflow_ref)
            if sub is None or sub.id in stack:
                continue
            out.extend(walk(sub, (*stack, sub.id)))
        return out

    return walk(workflow, (workflow.id,))


@dataclass
class InvalidEntries:
    """Entries that failed schema validation, so reference checks can still run on the rest.

    ``names``: dropped keys of map sections (``agents``, ``phases``, ...) — still "known" to
    references, since the entry exists and its own error is already reported. ``indexes``:
    placeholder positions in ``workflows``/``schedules``/``triggers`` whose checks are skipped.
    """

    names: dict[str, set[str]] = field(default_factory=dict)
    indexes: dict[str, set[int]] = field(default_factory=dict)


class _Collector:
    def __init__(
        self, config: WorkflowConfig, smap: SourceMap, invalid: InvalidEntries | None
    ) -> None:
        self.smap = smap
        self.errors: list[ConfigDiagnostic] = []
        self.warnings: list[ConfigDiagnostic] = []
        invalid = invalid or InvalidEntries()
        self.skip = invalid.indexes
        self.agents = set(config.agents) | invalid.names.get("agents", set())
        self.phases = set(config.phases) | invalid.names.get("phases", set())
        self.servers = (
            set(config.mcp_servers) | BUILTIN_MCP_SERVERS | invalid.names.get("mcp_servers", set())
        )

    def skipped(self, section: str, index: int) -> bool:
        return index in self.skip.get(section, ())

    def error(self, path: FieldPath, message: str, *, key: bool = False) -> None:
        loc = self.smap.key_location(path) if key else self.smap.value_location(path)
        self.errors.append(ConfigDiagnostic.at("error", message, loc, path))

    def warn(self, path: FieldPath, message: str) -> None:
        loc = self.smap.key_location(path)
        self.warnings.append(ConfigDiagnostic.at("warning", message, loc, path))


def _check_agents_and_phases(config: WorkflowConfig, c: _Collector) -> None:
    agents, servers = c.agents, c.servers
    for agent_id, agent in config.agents.items():
        for i, server in enumerate(agent.mcp_servers):
            if server not in servers:
                c.error(
                    ("agents", agent_id, "mcp_servers", i),
                    f"unknown MCP server '{server}' (known: {_known(servers)})",
                )
    for phase_id, phase in config.phases.items():
        base = ("phases", phase_id)
        if phase.agent is not None and phase.agent not in agents:
            c.error((*base, "agent"), f"unknown agent '{phase.agent}' (known: {_known(agents)})")
        if phase.mode == "command" and phase.command is None:
            c.error((*base, "mode"), "a 'mode: command' phase needs a 'command' block")
        if phase.mode != "command" and phase.command is not None:
            c.error(
                (*base, "command"),
                f"'command' only applies to 'mode: command' (this phase is mode {phase.mode})",
                key=True,
            )
        if phase.mode != "manual" and phase.manual is not None:
            c.error(
                (*base, "manual"),
                f"'manual' only applies to 'mode: manual' (this phase is mode {phase.mode})",
                key=True,
            )
        if phase.mode != "agent" and phase.agent is not None:
            c.error(
                (*base, "agent"),
                f"'agent' only applies to 'mode: agent' (this phase is mode {phase.mode})",
                key=True,
            )
        if phase.evals is not None:
            c.warn((*base, "evals"), "evals are parsed and validated but not enforced yet")
    if config.evals is not None:
        c.warn(("evals",), "evals are parsed and validated but not enforced yet")


def _find_cycle(config: WorkflowConfig, start: str) -> list[str] | None:
    by_id = {w.id: w for w in config.workflows}

    def visit(wid: str, stack: list[str]) -> list[str] | None:
        wf = by_id.get(wid)
        if wf is None:
            return None
        for entry in wf.phases:
            ref = entry.workflow_ref
            if ref is None:
                continue
            if ref in stack:
                return [*stack[stack.index(ref) :], ref]
            found = visit(ref, [*stack, ref])
            if found:
                return found
        return None

    return visit(start, [start])


def _check_workflows(config: WorkflowConfig, c: _Collector) -> None:
    agents, phases = c.agents, c.phases
    workflow_ids = [w.id for w in config.workflows]
    for wi, wf in enumerate(config.workflows):
        if c.skipped("workflows", wi):
            continue
        base: FieldPath = ("workflows", wi)
        cycle_reported = False
        for pi, entry in enumerate(wf.phases):
            here = (*base, "phases", pi)
            if entry.workflow_ref is not None:
                if entry.workflow_ref not in workflow_ids:
                    c.error(
                        (*here, "workflow_ref"),
                        f"unknown workflow '{entry.workflow_ref}' (known: {_known(workflow_ids)})",
                    )
                elif not cycle_reported:
                    cycle = _find_cycle(config, wf.id)
                    if cycle and cycle[0] == wf.id:
                        cycle_reported = True
                        c.error(
                            (*here, "workflow_ref"),
                            "sub-workflow cycle: " + " -> ".join(cycle),
                        )
                continue
            assert entry.id is not None
            if entry.id not in phases:
                c.error(
                    (*here, "id"),
                    f"unknown phase '{entry.id}' (known: {_known(phases)})",
                )
            if entry.agent is not None and entry.agent not in agents:
                c.error(
                    (*here, "agent"), f"unknown agent '{entry.agent}' (known: {_known(agents)})"
                )
        expanded = [e.id for e in expand_phase_entries(config, wf) if e.id is not None]
        targets = list(dict.fromkeys(expanded))
        for pi, entry in enumerate(wf.phases):
            for verdict in ("advance", "rework", "skip", "fail"):
                route = getattr(entry.on_verdict, verdict)
                if route is None:
                    continue
                rpath = (*base, "phases", pi, "on_verdict", verdict)
                if route.target not in (None, "") and route.target not in targets:
                    c.error(
                        (*rpath, "target"),
                        f"unknown phase '{route.target}' (known: {_known(targets)}; "
                        '"" terminates the workflow)',
                    )
                for ti, allowed in enumerate(route.allowed_targets):
                    if allowed not in targets:
                        c.error(
                            (*rpath, "allowed_targets", ti),
                            f"unknown phase '{allowed}' (known: {_known(targets)})",
                        )
        names: dict[str, int] = {}
        for vi, var in enumerate(wf.variables):
            if var.name in names:
                c.error((*base, "variables", vi, "name"), f"duplicate variable '{var.name}'")
            names[var.name] = vi


def _check_refs(config: WorkflowConfig, c: _Collector) -> None:
    workflow_ids = [w.id for w in config.workflows]
    for si, schedule in enumerate(config.schedules):
        if c.skipped("schedules", si):
            continue
        if schedule.workflow_ref not in workflow_ids:
            c.error(
                ("schedules", si, "workflow_ref"),
                f"unknown workflow '{schedule.workflow_ref}' (known: {_known(workflow_ids)})",
            )
    for ti, trigger in enumerate(config.triggers):
        if c.skipped("triggers", ti):
            continue
        if trigger.workflow_ref not in workflow_ids:
            c.error(
                ("triggers", ti, "workflow_ref"),
                f"unknown workflow '{trigger.workflow_ref}' (known: {_known(workflow_ids)})",
            )
        model = _TRIGGER_CONFIG_MODELS.get(trigger.type)
        if model is not None:
            try:
                model.model_validate(trigger.config)
            except ValidationError as exc:
                c.errors.extend(
                    diagnostics_from_validation_error(
                        exc, c.smap, root=model, prefix=("triggers", ti, "config")
                    )
                )
    ref = config.default_workflow_ref
    if ref is not None and ref not in workflow_ids:
        c.error(
            ("default_workflow_ref",),
            f"unknown workflow '{ref}' (known: {_known(workflow_ids)})",
        )
    phases = c.phases
    for phase_id in config.daemon.phase_routing:
        if phase_id not in phases:
            c.warn(
                ("daemon", "phase_routing", phase_id),
                f"phase_routing names unknown phase '{phase_id}' (known: {_known(phases)})",
            )
    for key in config.daemon.model_extra or {}:
        why = _REMOVED_DAEMON_KEYS.get(key)
        if why:
            c.warn(("daemon", key), f"'{key}' was removed and is ignored: {why}")
    for channel_id, channel in config.agent_channels.items():
        for i, participant in enumerate(channel.participants):
            if participant not in c.agents:
                c.error(
                    ("agent_channels", channel_id, "participants", i),
                    f"unknown agent '{participant}' (known: {_known(c.agents)})",
                )


def validate_references(
    config: WorkflowConfig, smap: SourceMap, invalid: InvalidEntries | None = None
) -> tuple[list[ConfigDiagnostic], list[ConfigDiagnostic]]:
    """Return ``(errors, warnings)`` for everything the schema cannot check alone."""
    c = _Collector(config, smap, invalid)
    _check_agents_and_phases(config, c)
    _check_workflows(config, c)
    _check_refs(config, c)
    return c.errors, c.warnings
