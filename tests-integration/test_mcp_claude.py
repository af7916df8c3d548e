"""The real ``claude`` CLI calls Animus MCP tools.

``ScriptedModelServer`` plays the model: a ``tool_use`` of
``mcp__animus__animus_subject_create`` (claude shows the tool ``animus.subject.create`` of the
server named ``animus`` under that name: dots become underscores), and the task exists
afterwards. First with claude launched by hand with ``--mcp-config`` naming
``animus mcp serve`` and ``--strict-mcp-config``; then inside a workflow agent phase whose
agent declares no MCP server at all: the workflow runner gives it the ``animus`` server by
default, scoped to the run (``animus.workflow.get`` without an id answers for that run).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from animus_cli.mcp import animus_mcp_server_spec
from animus_core.hub import ServiceHub
from animus_testsupport import ScriptedModelServer
from animus_testsupport.clis import require_cli
from animus_testsupport.realcli import claude_argv, claude_env

pytestmark = [pytest.mark.realcli, pytest.mark.timeout(300)]

CREATE_TOOL = "mcp__animus__animus_subject_create"


def _stream(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_claude_creates_a_task_through_the_animus_mcp_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claude = require_cli("claude")
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    animus_home = tmp_path / "animus-home"
    monkeypatch.setenv("ANIMUS_HOME", str(animus_home))
    spec = animus_mcp_server_spec(project, agent_id="claude-test")
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"animus": spec}}))
    script = [
        {
            "tool_calls": [
                {
                    "name": CREATE_TOOL,
                    "input": {"title": "Follow-up: document the MCP tools", "labels": ["docs"]},
                }
            ]
        },
        {"match": {"contains": "TASK-001"}, "text": "Created TASK-001."},
    ]
    home = tmp_path / "home"
    home.mkdir()
    with ScriptedModelServer(script) as server:
        argv = claude_argv(
            claude,
            "Create a follow-up task for the docs.",
            skip_permissions=True,
            extra=["--mcp-config", str(config), "--strict-mcp-config"],
        )
        proc = subprocess.run(
            argv,
            env=claude_env(server.base_url, home, sandbox=True),
            cwd=project,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        remaining = server.remaining_turns
    assert proc.returncode == 0, proc.stderr[-2000:]
    events = _stream(proc.stdout)
    init = events[0]
    assert {"name": "animus", "status": "connected"}.items() <= init["mcp_servers"][0].items()
    assert CREATE_TOOL in init["tools"]
    assert "mcp__animus__animus_daemon_stop" not in init["tools"]  # agent-scoped server
    results = [
        block
        for event in events
        if event.get("type") == "user"
        for block in event["message"]["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]
    assert len(results) == 1
    assert not results[0].get("is_error"), results[0]
    assert events[-1]["result"] == "Created TASK-001."
    assert remaining == 0
    task = ServiceHub(project, env={"ANIMUS_HOME": str(animus_home)}).tasks.get("TASK-001")
    assert task.title == "Follow-up: document the MCP tools"
    assert task.tags == ["docs"]
    assert sys.executable == spec["command"]


# No `mcp_servers` anywhere: the workflow runner gives every agent the built-in `animus`
# server by default, scoped to the run.
WORKFLOW = """
agents:
  planner: { tool: claude, permission_mode: MODE }
phases:
  plan: { mode: agent, agent: planner, directive: "Plan the work.", idempotency: idempotent }
workflows:
  - id: plan
    worktree: skip
    phases: [plan]
default_workflow_ref: plan
"""

RUN_ID = "WF-mcp-claude-0001"
WORKFLOW_GET_TOOL = "mcp__animus__animus_workflow_get"


# In --print mode, acceptEdits and default deny MCP tools unless they are allowed; the
# provider allows the servers the request names. (plan mode refuses every MCP call whatever
# is allowed: docs/providers/claude.md.)
@pytest.mark.parametrize("mode", ["bypassPermissions", "acceptEdits", "default"])
def test_a_claude_workflow_phase_creates_a_task_through_the_animus_mcp_server(
    tmp_path: Path, mode: str
) -> None:
    from animus_workflow_runner.engine import ExecuteRequest, execute
    from animus_workflow_runner.testing import make_workflow_project

    claude = require_cli("claude")
    p = make_workflow_project(tmp_path, WORKFLOW.replace("MODE", mode))
    task = p.create_task()
    home = tmp_path / "home"
    home.mkdir()
    verdict = '```json\n{"verdict": "advance", "reason": "planned", "confidence": 0.9}\n```'
    script = [
        {"tool_calls": [{"name": CREATE_TOOL, "input": {"title": "Created by the planner"}}]},
        # `animus.workflow.get` without a workflow_id answers for the run the server is
        # scoped to (--workflow-id): the run executing this very phase.
        {"match": {"contains": "TASK-002"},
         "tool_calls": [{"name": WORKFLOW_GET_TOOL, "input": {}}]},
        {"match": {"contains": RUN_ID}, "text": f"Created TASK-002.\n{verdict}"},
    ]  # fmt: skip
    with ScriptedModelServer(script) as server:
        env = {
            **p.env,
            "HOME": str(home),
            "CLAUDE_BIN": str(claude),
            # Only skip-permissions needs the container opt-in when running as root.
            **({"ANIMUS_CLAUDE_SANDBOXED": "1"} if mode == "bypassPermissions" else {}),
            "ANTHROPIC_BASE_URL": server.base_url,
            "ANTHROPIC_API_KEY": "dummy-scripted-key",
        }
        outcome = execute(ExecuteRequest(project_root=p.root, task_id=task, env=env, run_id=RUN_ID))
        remaining = server.remaining_turns
    assert outcome.status == "completed", outcome
    assert remaining == 0
    with p.hub() as hub:
        created = hub.tasks.get("TASK-002")
    assert created.title == "Created by the planner"
    log = next(p.home.glob(f"*/runs/{RUN_ID}/events.jsonl"))
    events = [json.loads(line) for line in log.read_text().splitlines()]
    calls = [e["payload"] for e in events if e["type"] == "tool_call"]
    assert [(c["name"], c["server"]) for c in calls] == [
        (CREATE_TOOL, "animus"),
        (WORKFLOW_GET_TOOL, "animus"),
    ]
    results = [json.loads(e["payload"]["output"]) for e in events if e["type"] == "tool_result"]
    assert [r["ok"] for r in results] == [True, True], results
    assert results[0]["data"]["id"] == "TASK-002"
    # The server is scoped to the run: workflow.get with no id answered for this very run.
    assert results[1]["data"]["id"] == RUN_ID
    assert results[1]["data"]["status"] == "running"
