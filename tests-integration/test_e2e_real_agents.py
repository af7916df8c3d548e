"""End to end with the real agent CLIs: a task runs a workflow in its worktree and merges.

claude runs the bootstrap default workflow (``animus init``'s ``standard``: implement agent,
test command, review agent, merge) against a ``ScriptedModelServer``: the implementer's
scripted Read / Edit / Write tool calls really change files in the task's worktree, the
test command phase really runs the project's unit tests, the reviewer's final text carries a
``phase_decision`` the runner parses, and the branch merges into ``main``. codex runs one
implement phase whose scripted ``exec_command`` writes a file, and that branch merges too.

Nothing is faked between the runner and the model: the workflow runner, the agent runner,
the session host, the provider plugin, the CLI, git and the test command are all real
processes; only the model's answers are scripted.
"""

from __future__ import annotations

import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from animus_testsupport import ScriptedModelServer
from animus_testsupport.clis import require_cli
from animus_workflow_runner.engine import ExecuteRequest, RunOutcome, execute
from animus_workflow_runner.git.testing import git
from animus_workflow_runner.naming import task_worktree_path
from animus_workflow_runner.outputs import read_phase_outputs
from animus_workflow_runner.testing import WorkflowProject, make_workflow_project

pytestmark = [pytest.mark.realcli, pytest.mark.timeout(420)]

GREET = 'def greet() -> str:\n    return "hi"\n'
TEST_GREET = """\
import unittest

from greet import greet


class GreetTest(unittest.TestCase):
    def test_says_hello(self) -> None:
        self.assertEqual(greet(), "hello")


if __name__ == "__main__":
    unittest.main()
"""


def _decision(verdict: str, reason: str, confidence: float, risk: str = "low") -> str:
    body = {
        "kind": "phase_decision",
        "verdict": verdict,
        "confidence": confidence,
        "risk": risk,
        "reason": reason,
    }
    return f"```json\n{json.dumps(body)}\n```"


def _default_workflows_yaml() -> str:
    """The workflows.yaml `animus init` writes (the bootstrap default, unchanged)."""
    return (files("animus_config") / "defaults" / "workflows.yaml").read_text(encoding="utf-8")


def _agent_events(p: WorkflowProject, run_id: str) -> list[dict[str, Any]]:
    with p.hub() as hub:
        log = hub.paths.run_dir(run_id) / "events.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()]


def _decisions(p: WorkflowProject, run_id: str) -> list[tuple[str, str, str, str | None]]:
    with p.hub() as hub:
        return [
            (d.phase_id, d.decision.value, d.source.value, d.reason)
            for d in hub.runs.decisions(run_id)
        ]


def test_claude_runs_the_default_workflow_and_the_branch_merges(tmp_path: Path) -> None:
    claude = require_cli("claude")
    p = make_workflow_project(
        tmp_path,
        _default_workflows_yaml(),
        files={"greet.py": GREET, "test_greet.py": TEST_GREET},
    )
    task = p.create_task("Make greet() say hello")
    with p.hub() as hub:
        worktree = task_worktree_path(hub.paths.worktrees_dir, task)
    greet, changes = worktree / "greet.py", worktree / "CHANGES.md"
    before = git(p.root, "rev-parse", "main", env=p.env)
    # On main the project's own test fails: the change is what makes it pass.
    assert git(p.root, "show", "main:greet.py", env=p.env) == GREET.strip()

    script = [
        # implement (claude's Edit needs a Read of the file first, as for a real model)
        {"match": {"contains": "Implement the task"},
         "tool_calls": [{"name": "Read", "input": {"file_path": str(greet)}}]},
        {"match": {"contains": 'return "hi"'},
         "tool_calls": [{"name": "Edit", "input": {"file_path": str(greet),
                                                   "old_string": 'return "hi"',
                                                   "new_string": 'return "hello"'}}]},
        {"match": {"contains": "has been updated"},
         "tool_calls": [{"name": "Write", "input": {"file_path": str(changes),
                                                    "content": "- greet() says hello\n"}}]},
        {"match": {"contains": "File created successfully"},
         "text": "greet() now says hello.\n" + _decision("advance", "greet fixed", 0.9)},
        # review (after the test command phase passed)
        {"match": {"contains": "Review the change"},
         "text": "The diff is small and tested.\n"
                 + _decision("advance", "ready to merge", 0.85)},
    ]  # fmt: skip
    home = tmp_path / "home"
    home.mkdir()
    with ScriptedModelServer(script) as server:
        env = {
            **p.env,
            "HOME": str(home),
            "CLAUDE_BIN": str(claude),
            "ANTHROPIC_BASE_URL": server.base_url,
            "ANTHROPIC_API_KEY": "dummy-scripted-key",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            # The default config's test phase runs this (it interpolates the variable).
            "ANIMUS_TEST_COMMAND": f"{sys.executable} -m unittest -v",
        }
        # No sandbox opt-in: the default implementer runs with permission_mode acceptEdits
        # and the reviewer with plan, which claude accepts as root.
        env.pop("ANIMUS_CLAUDE_SANDBOXED", None)
        env.pop("IS_SANDBOX", None)
        outcome: RunOutcome = execute(ExecuteRequest(project_root=p.root, task_id=task, env=env))
        remaining = server.remaining_turns
        first_request = server.model_requests[0].body_text()

    assert (outcome.status, outcome.exit_code) == ("completed", 0), outcome
    assert remaining == 0
    run_id = outcome.workflow_id
    # The implementer was offered the animus MCP tools (the default, scoped to the run).
    assert "mcp__animus__animus_subject_create" in first_request

    # Every phase ran once and routed on its own verdict.
    decisions = _decisions(p, run_id)
    assert [(d[0], d[1]) for d in decisions] == [
        ("implement", "advance"),
        ("test", "advance"),
        ("review", "advance"),
    ], decisions
    assert decisions[0][3] == "greet fixed"
    assert decisions[2][2:] == ("llm", "ready to merge")  # parsed from claude's final text

    # The implementer's tool calls went through claude, which really ran them.
    events = _agent_events(p, run_id)
    calls = [(e["phase_id"], e["payload"]["name"]) for e in events if e["type"] == "tool_call"]
    assert calls == [("implement", "Read"), ("implement", "Edit"), ("implement", "Write")]
    failed = [e for e in events if e["type"] == "tool_result" and not e["payload"]["success"]]
    assert failed == []

    # The test command really ran the project's unit test, in the worktree, and it passed.
    with p.hub() as hub:
        outputs = read_phase_outputs(hub.paths.phase_outputs_dir(run_id))
        status = hub.tasks.get(task).status.value
    assert outputs["test"]["exit_code"] == 0
    assert "test_says_hello" in outputs["test"]["output"]
    assert "Ran 1 test" in outputs["test"]["output"]

    # The branch merged into main with the agent's edits; the worktree is gone.
    assert git(p.root, "show", "main:greet.py", env=p.env) == GREET.replace("hi", "hello").strip()
    assert git(p.root, "show", "main:CHANGES.md", env=p.env) == "- greet() says hello"
    log = git(p.root, "log", "--format=%s", f"{before}..main", env=p.env).splitlines()
    assert "animus: implement" in log
    assert len(git(p.root, "rev-list", "--merges", f"{before}..main", env=p.env).split()) == 1
    assert not worktree.exists()
    assert status == "done"


CODEX_WORKFLOW = """
agents:
  coder: { tool: codex, model: gpt-5.5 }
phases:
  implement:
    mode: agent
    agent: coder
    directive: Write CODEX.md saying codex was here.
    idempotency: sideeffecting
    commit_message: "codex: write CODEX.md"
workflows:
  - id: codex-one
    worktree: { mode: auto }
    phases: [implement]
    post_success: { merge: { strategy: merge, target_branch: main, cleanup_worktree: true } }
default_workflow_ref: codex-one
"""


def _write_codex_home(codex_home: Path, base_url: str) -> None:
    # codex ignores OPENAI_BASE_URL alone: it needs a model provider with the loopback
    # base_url, the responses wire API and websockets off. The key variable is
    # OPENAI_API_KEY because the provider plugin's manifest declares it, so the plugin host
    # passes it through its cleared environment.
    codex_home.mkdir()
    (codex_home / "config.toml").write_text(
        f"""model = "gpt-5.5"
model_provider = "scripted"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.scripted]
name = "Scripted model server"
base_url = "{base_url}"
wire_api = "responses"
env_key = "OPENAI_API_KEY"
supports_websockets = false
request_max_retries = 0
stream_max_retries = 0
""",
        encoding="utf-8",
    )


def test_codex_runs_an_implement_phase_and_the_branch_merges(tmp_path: Path) -> None:
    codex = require_cli("codex")
    p = make_workflow_project(tmp_path, CODEX_WORKFLOW)
    task = p.create_task("Leave a note")
    with p.hub() as hub:
        worktree = task_worktree_path(hub.paths.worktrees_dir, task)
    before = git(p.root, "rev-parse", "main", env=p.env)
    script = [
        {"match": {"contains": "Write CODEX.md"},
         "tool_calls": [{"name": "exec_command",
                         "input": {"cmd": "printf 'codex was here\\n' > CODEX.md"}}]},
        {"match": {"body_contains": "function_call_output"},
         "text": "Wrote CODEX.md.\n" + _decision("advance", "note written", 0.95)},
    ]  # fmt: skip
    home = tmp_path / "home"
    home.mkdir()
    with ScriptedModelServer(script) as server:
        _write_codex_home(tmp_path / "codex-home", server.openai_base_url)
        env = {
            **p.env,
            "HOME": str(home),
            "CODEX_BIN": str(codex),
            "CODEX_HOME": str(tmp_path / "codex-home"),
            "OPENAI_API_KEY": "dummy-scripted-key",
        }
        outcome = execute(ExecuteRequest(project_root=p.root, task_id=task, env=env))
        remaining = server.remaining_turns

    assert (outcome.status, outcome.exit_code) == ("completed", 0), outcome
    assert remaining == 0
    assert _decisions(p, outcome.workflow_id) == [("implement", "advance", "llm", "note written")]
    events = _agent_events(p, outcome.workflow_id)
    started = next(e for e in events if e["type"] == "started")
    assert started["payload"]["tool"] == "codex"
    assert started["payload"]["cwd"] == str(worktree)
    shell = [e["payload"] for e in events if e["type"] == "tool_result"]
    assert [(r["name"], r["success"]) for r in shell] == [("shell", True)]
    assert git(p.root, "show", "main:CODEX.md", env=p.env) == "codex was here"
    log = git(p.root, "log", "--format=%s", f"{before}..main", env=p.env).splitlines()
    assert "codex: write CODEX.md" in log
    assert not worktree.exists()
    with p.hub() as hub:
        assert hub.tasks.get(task).status.value == "done"
