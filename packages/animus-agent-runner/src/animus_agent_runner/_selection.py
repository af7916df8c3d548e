"""Which tool (agent CLI) and model a phase runs with.

The cascade, highest first: CLI override > phase ``runtime`` > daemon ``phase_routing`` >
agent profile > the phase's ``default_tool`` > :data:`DEFAULT_TOOL`. The model follows the
same order with one guard: a model is only taken from a level that names no tool or the
chosen tool, so ``--tool codex`` never sends a Claude model named by the agent profile to
Codex; when no level qualifies, the tool's default model is used (``None`` for providers
such as the mock, which pick their own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from animus_session_host import default_model, normalize_tool

__all__ = ["DEFAULT_TOOL", "SelectionSource", "ToolSelection", "resolve_tool_and_model"]

# The reference's default agent CLI; tests and the demo name the mock explicitly.
DEFAULT_TOOL = "claude"

SelectionSource = Literal["cli", "phase", "phase_routing", "agent", "phase_default", "default"]


@dataclass(frozen=True)
class ToolSelection:
    """The resolved tool and model, and which level of the cascade chose each."""

    tool: str
    model: str | None
    source: SelectionSource
    model_source: SelectionSource | Literal["tool_default", "provider"] = "tool_default"


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _text(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"{where} must be a string, not {type(value).__name__}")
    return value.strip() or None


def resolve_tool_and_model(
    *,
    cli_tool: str | None = None,
    cli_model: str | None = None,
    phase: Any = None,
    agent_profile: Any = None,
    phase_routing: Any = None,
    default_tool: str = DEFAULT_TOOL,
) -> ToolSelection:
    """Resolve the tool and model of one agent phase.

    ``phase`` is a ``PhaseDefinition`` (or a mapping with ``runtime`` / ``default_tool``),
    ``agent_profile`` an ``AgentProfile`` (or mapping), ``phase_routing`` this phase's
    entry of the daemon's ``phase_routing`` (``{tool, model}``).
    """
    runtime = _field(phase, "runtime")
    levels: list[tuple[SelectionSource, str | None, str | None]] = [
        ("cli", _text(cli_tool, "cli_tool"), _text(cli_model, "cli_model")),
        (
            "phase",
            _text(_field(runtime, "tool"), "phase runtime.tool"),
            _text(_field(runtime, "model"), "phase runtime.model"),
        ),
        (
            "phase_routing",
            _text(_field(phase_routing, "tool"), "phase_routing.tool"),
            _text(_field(phase_routing, "model"), "phase_routing.model"),
        ),
        (
            "agent",
            _text(_field(agent_profile, "tool"), "agent tool"),
            _text(_field(agent_profile, "model"), "agent model"),
        ),
    ]
    tool: str | None = None
    source: SelectionSource = "default"
    for name, level_tool, _ in levels:
        if level_tool is not None:
            tool, source = level_tool, name
            break
    if tool is None:
        phase_default = _text(_field(phase, "default_tool"), "phase default_tool")
        if phase_default is not None:
            tool, source = phase_default, "phase_default"
        else:
            tool = default_tool
    chosen = normalize_tool(tool)
    for name, level_tool, level_model in levels:
        if level_model is None:
            continue
        if level_tool is not None and normalize_tool(level_tool) != chosen:
            continue  # that level's model belongs to another tool
        return ToolSelection(tool, level_model, source, name)
    fallback = default_model(tool)
    return ToolSelection(tool, fallback, source, "tool_default" if fallback else "provider")
