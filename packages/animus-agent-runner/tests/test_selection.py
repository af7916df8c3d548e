from __future__ import annotations

from typing import Any

import pytest

from animus_agent_runner import DEFAULT_TOOL, ToolSelection, resolve_tool_and_model
from animus_config.schema import AgentProfile, PhaseDefinition, PhaseRouting

AGENT = AgentProfile(tool="codex", model="gpt-5.4-mini")
PHASE = PhaseDefinition(mode="agent", runtime={"tool": "gemini", "model": "gemini-3-pro"})
ROUTING = PhaseRouting(tool="opencode", model="kimi-k2")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # Nothing names a tool: the default tool and its default model.
        ({}, ToolSelection("claude", "claude-sonnet-4-6", "default", "tool_default")),
        # Agent profile only.
        ({"agent_profile": AGENT}, ToolSelection("codex", "gpt-5.4-mini", "agent", "agent")),
        # Daemon routing beats the agent profile.
        (
            {"agent_profile": AGENT, "phase_routing": ROUTING},
            ToolSelection("opencode", "kimi-k2", "phase_routing", "phase_routing"),
        ),
        # Phase runtime beats routing and agent.
        (
            {"agent_profile": AGENT, "phase_routing": ROUTING, "phase": PHASE},
            ToolSelection("gemini", "gemini-3-pro", "phase", "phase"),
        ),
        # The CLI beats everything.
        (
            {
                "agent_profile": AGENT,
                "phase_routing": ROUTING,
                "phase": PHASE,
                "cli_tool": "claude",
                "cli_model": "claude-opus-4-1",
            },
            ToolSelection("claude", "claude-opus-4-1", "cli", "cli"),
        ),
        # A CLI tool without a model: lower levels' models belong to other tools.
        (
            {"agent_profile": AGENT, "phase": PHASE, "cli_tool": "claude"},
            ToolSelection("claude", "claude-sonnet-4-6", "cli", "tool_default"),
        ),
        # A CLI model alone keeps the cascade's tool.
        (
            {"agent_profile": AGENT, "cli_model": "o4-mini"},
            ToolSelection("codex", "o4-mini", "agent", "cli"),
        ),
        # A level that names only a model lends it to the chosen tool.
        (
            {"agent_profile": AGENT, "phase_routing": {"model": "gpt-5.4"}},
            ToolSelection("codex", "gpt-5.4", "agent", "phase_routing"),
        ),
        # The phase's default_tool comes before the global default.
        (
            {"phase": PhaseDefinition(mode="agent", default_tool="codex")},
            ToolSelection("codex", "gpt-5.4", "phase_default", "tool_default"),
        ),
        # Aliases normalize when comparing tools (oai-runner == oai).
        (
            {
                "phase": {"runtime": {"tool": "oai"}},
                "agent_profile": {"tool": "oai-runner", "model": "m1"},
            },
            ToolSelection("oai", "m1", "phase", "agent"),
        ),
        # The mock picks its own model.
        ({"cli_tool": "mock"}, ToolSelection("mock", None, "cli", "provider")),
        # A compiled-phase mapping works like the model.
        (
            {"phase": {"runtime": {"tool": "codex", "model": "gpt-5.4"}}},
            ToolSelection("codex", "gpt-5.4", "phase", "phase"),
        ),
    ],
)
def test_cascade(kwargs: dict[str, Any], expected: ToolSelection) -> None:
    assert resolve_tool_and_model(**kwargs) == expected


def test_default_tool_is_claude_and_overridable() -> None:
    assert DEFAULT_TOOL == "claude"
    assert resolve_tool_and_model(default_tool="mock") == ToolSelection(
        "mock", None, "default", "provider"
    )


def test_blank_values_are_ignored_and_bad_types_named() -> None:
    assert resolve_tool_and_model(cli_tool="  ", agent_profile={"tool": "codex"}).tool == "codex"
    with pytest.raises(TypeError, match="cli_model must be a string"):
        resolve_tool_and_model(cli_model=42)  # type: ignore[arg-type]
