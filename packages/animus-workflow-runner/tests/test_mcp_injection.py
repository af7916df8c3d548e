"""Which MCP servers an agent phase's session gets: the built-in ``animus`` server scoped to
the run by default, the agent's opt-out, and the declared servers it names.

The phases come from a real ``.animus/workflows.yaml`` loaded, validated and compiled the way
a run loads it (``load_workflow``), so the agent profile fields reach the injection exactly as
they do at run time.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from animus_workflow_runner._agent_phase import phase_mcp_servers
from animus_workflow_runner.definition import WorkflowDefinition, load_workflow

RUN_ID = "WF-0123"

WORKFLOWS = """\
mcp_servers:
  github: { command: gh-mcp, args: [--stdio], env: { GH_TOKEN: t0ken } }
  docs: { transport: http, url: "http://127.0.0.1:9/mcp" }
agents:
  plain: { tool: mock }
  with-github: { tool: mock, mcp_servers: [github, docs] }
  opted-out: { tool: mock, animus_mcp: false }
  no-servers: { tool: mock, mcp_servers: [] }
  github-only: { tool: mock, mcp_servers: [github], animus_mcp: false }
  named-anyway: { tool: mock, mcp_servers: [animus], animus_mcp: false }
phases:
  a: { mode: agent, agent: plain, directive: a }
  b: { mode: agent, agent: with-github, directive: b }
  c: { mode: agent, agent: opted-out, directive: c }
  d: { mode: agent, agent: no-servers, directive: d }
  e: { mode: agent, agent: github-only, directive: e }
  f: { mode: agent, agent: named-anyway, directive: f }
  g: { mode: agent, directive: g }
workflows:
  - id: all
    phases: [a, b, c, d, e, f, g]
"""

ENV = {"ANIMUS_HOME": "/state/home", "PYTHONPATH": "/src", "ANIMUS_CONFIG_DIR": "", "X": "1"}


def _definition(tmp_path: Path, text: str = WORKFLOWS) -> WorkflowDefinition:
    root = tmp_path / "project"
    (root / ".animus").mkdir(parents=True)
    (root / ".animus" / "workflows.yaml").write_text(text, encoding="utf-8")
    return load_workflow(root, "all", env={})


def _servers(definition: WorkflowDefinition, phase_id: str) -> dict[str, Any]:
    entry = next(p for p in definition.phases if p["id"] == phase_id)
    agent = entry.get("agent")
    return phase_mcp_servers(
        entry,
        definition.agents.get(agent) if agent else None,
        definition.mcp_servers,
        project_root="/repo",
        run_id=RUN_ID,
        env=ENV,
    )


def test_every_agent_gets_the_animus_server_scoped_to_the_run(tmp_path: Path) -> None:
    servers = _servers(_definition(tmp_path), "a")
    assert servers == {
        "animus": {
            "command": sys.executable,
            "args": ["-m", "animus_cli", "mcp", "serve", "--project-root", "/repo",
                     "--workflow-id", RUN_ID, "--agent-id", "plain"],
            # What the server needs to find the runner's state; empty and unrelated
            # variables are not passed.
            "env": {"ANIMUS_HOME": "/state/home", "PYTHONPATH": "/src"},
        }
    }  # fmt: skip


def test_a_phase_without_an_agent_is_scoped_by_its_phase_id(tmp_path: Path) -> None:
    args = _servers(_definition(tmp_path), "g")["animus"]["args"]
    assert args[-2:] == ["--agent-id", "g"]


def test_declared_servers_the_agent_names_are_passed_with_their_definitions(
    tmp_path: Path,
) -> None:
    servers = _servers(_definition(tmp_path), "b")
    assert sorted(servers) == ["animus", "docs", "github"]
    assert servers["github"]["command"] == "gh-mcp"
    assert servers["github"]["args"] == ["--stdio"]
    assert servers["github"]["env"] == {"GH_TOKEN": "t0ken"}
    assert servers["docs"]["url"] == "http://127.0.0.1:9/mcp"
    assert servers["docs"]["transport"] == "http"


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        ("c", []),  # animus_mcp: false
        ("d", []),  # an explicit empty mcp_servers opts out of everything
        ("e", ["github"]),  # declared servers stay, the default is off
        ("f", ["animus"]),  # naming animus always includes it
    ],
)
def test_agents_opt_out_of_the_default(tmp_path: Path, phase: str, expected: list[str]) -> None:
    assert sorted(_servers(_definition(tmp_path), phase)) == expected


def test_a_declared_animus_mcp_serve_entry_keeps_its_flags_and_gets_the_scope(
    tmp_path: Path,
) -> None:
    # The bootstrap config declares `animus: {command: animus, args: [mcp, serve]}`; it runs
    # with this interpreter (no `animus` on PATH needed), scoped, keeping extra flags.
    text = WORKFLOWS.replace(
        "mcp_servers:\n",
        "mcp_servers:\n  animus: { command: animus, args: [mcp, serve, --management,"
        " --agent-id, boss], env: { EXTRA: '1' } }\n",
        1,
    )
    spec = _servers(_definition(tmp_path, text), "a")["animus"]
    assert spec["command"] == sys.executable
    assert spec["args"] == [
        "-m", "animus_cli", "mcp", "serve", "--management", "--agent-id", "boss",
        "--project-root", "/repo", "--workflow-id", RUN_ID,
    ]  # fmt: skip
    assert spec["env"] == {"ANIMUS_HOME": "/state/home", "PYTHONPATH": "/src", "EXTRA": "1"}


def test_a_declared_animus_entry_running_something_else_is_passed_as_written(
    tmp_path: Path,
) -> None:
    text = WORKFLOWS.replace(
        "mcp_servers:\n", "mcp_servers:\n  animus: { command: my-animus-proxy, args: [-v] }\n", 1
    )
    spec = _servers(_definition(tmp_path, text), "a")["animus"]
    assert spec["command"] == "my-animus-proxy"
    assert spec["args"] == ["-v"]
