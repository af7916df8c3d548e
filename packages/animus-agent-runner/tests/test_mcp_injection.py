"""The MCP servers of an agent phase reach the provider: ``agent/run`` carries them as
``mcp_servers`` (what claude's ``--mcp-config`` and codex's ``-c mcp_servers.*`` are built
from) and the runtime contract lists them (``mcp.endpoint`` for the built-in ``animus``
server, ``additional_servers`` for the others).

The phases and agents come from a real ``workflows.yaml`` compiled by animus-config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from animus_agent_runner import AgentPhaseRequest, resolve_tool_and_model
from animus_agent_runner._params import build_run_params, session_mcp_server_names
from animus_config import compile_workflow_config, compiled_workflow, load_workflow_config

WORKFLOWS = """\
mcp_servers:
  github: { command: gh-mcp, args: [--stdio], env: { GH_TOKEN: t0ken }, tools: [gh.] }
  docs: { transport: http, url: "http://127.0.0.1:9/mcp" }
  unused: { command: never-started }
agents:
  default: { tool: claude }
  github: { tool: claude, mcp_servers: [github, docs] }
  opted-out: { tool: claude, mcp_servers: [github], animus_mcp: false }
  no-servers: { tool: claude, mcp_servers: [] }
phases:
  a: { mode: agent, agent: default, directive: a }
  b: { mode: agent, agent: github, directive: b }
  c: { mode: agent, agent: opted-out, directive: c }
  d: { mode: agent, agent: no-servers, directive: d }
workflows:
  - id: all
    phases: [a, b, c, d]
"""

# What the workflow runner puts in the request: the built-in entry scoped to the run.
ANIMUS = {
    "command": "/venv/bin/python",
    "args": ["-m", "animus_cli", "mcp", "serve", "--project-root", "/repo",
             "--workflow-id", "WF-1", "--agent-id", "github"],
    "env": {"ANIMUS_HOME": "/state"},
}  # fmt: skip


@pytest.fixture
def compiled(project: Path) -> dict[str, Any]:
    (project / ".animus" / "workflows.yaml").write_text(WORKFLOWS, encoding="utf-8")
    return compile_workflow_config(load_workflow_config(project))


def _params(
    compiled: dict[str, Any], project: Path, phase_id: str, servers: dict[str, Any]
) -> dict[str, Any]:
    workflow = compiled_workflow(compiled, "all")
    assert workflow is not None
    phase = next(p for p in workflow["phases"] if p["id"] == phase_id)
    request = AgentPhaseRequest(
        run_id="WF-1",
        phase_id=phase_id,
        cwd=project,
        prompt="do it",
        phase=phase,
        agent_id=phase["agent"],
        agent_profile=compiled["config"]["agents"][phase["agent"]],
        mcp_servers=servers,
    )
    return build_run_params(request, resolve_tool_and_model(phase=phase), project, None, project)


def _declared(compiled: dict[str, Any]) -> dict[str, Any]:
    return {**compiled["config"]["mcp_servers"], "animus": ANIMUS}


def test_the_animus_server_and_the_named_servers_reach_the_provider(
    compiled: dict[str, Any], project: Path
) -> None:
    params = _params(compiled, project, "b", _declared(compiled))
    assert params["mcp_servers"] == {
        "github": {"command": "gh-mcp", "args": ["--stdio"], "env": {"GH_TOKEN": "t0ken"}},
        "docs": {"url": "http://127.0.0.1:9/mcp", "transport": "http", "headers": {}},
        "animus": ANIMUS,
    }
    mcp = params["runtime_contract"]["mcp"]
    assert mcp["endpoint"] == "animus mcp serve"
    assert mcp["agent_id"] == "github"
    assert sorted(mcp["additional_servers"]) == ["docs", "github"]
    assert mcp["allowed_tool_prefixes"] == ["animus.", "gh."]


def test_an_agent_naming_no_server_still_gets_the_default(
    compiled: dict[str, Any], project: Path
) -> None:
    params = _params(compiled, project, "a", _declared(compiled))
    assert params["mcp_servers"] == {"animus": ANIMUS}
    assert params["runtime_contract"]["mcp"]["endpoint"] == "animus mcp serve"


@pytest.mark.parametrize(("phase_id", "expected"), [("c", ["github"]), ("d", [])])
def test_an_opted_out_agent_does_not_get_the_animus_server(
    compiled: dict[str, Any], project: Path, phase_id: str, expected: list[str]
) -> None:
    params = _params(compiled, project, phase_id, _declared(compiled))
    assert sorted(params.get("mcp_servers") or {}) == expected
    assert params["runtime_contract"]["mcp"]["endpoint"] is None


def test_no_servers_means_no_mcp_config_at_all(compiled: dict[str, Any], project: Path) -> None:
    # Without the workflow runner's entry (a direct caller passing nothing), nothing is sent.
    params = _params(compiled, project, "a", {})
    assert "mcp_servers" not in params or params["mcp_servers"] is None
    assert params["runtime_contract"]["mcp"]["endpoint"] is None


def test_names_are_in_declaration_order_without_duplicates(project: Path) -> None:
    request = AgentPhaseRequest(
        run_id="WF-1",
        phase_id="p",
        cwd=project,
        prompt="x",
        agent_profile={"mcp_servers": ["docs", "animus", "docs", "missing"]},
        mcp_servers={"docs": {"url": "http://127.0.0.1:9"}, "animus": ANIMUS},
    )
    assert session_mcp_server_names(request) == ["docs", "animus"]
