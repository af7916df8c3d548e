"""Kill -9 safety: the real ``animus-workflow-runner`` executable is SIGKILLed at each step
boundary of a side-effecting workflow in turn (right after the journal intent, right after
the effect, right after the journal commit), then resumed. Every run completes and every
side effect happened exactly once: the agent's edit (a counter file the mock script appends
to), the branch commits, the merge into main, the push and the pull request (a fake ``gh``
records its calls)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from animus_workflow_runner.git.testing import git
from animus_workflow_runner.testing import WorkflowProject, make_workflow_project

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

WORKFLOW = """
agents:
  builder: { tool: mock }
  critic: { tool: mock }
phases:
  implement:
    { mode: agent, agent: builder, idempotency: sideeffecting, commit_message: "implement" }
  check:
    mode: command
    idempotency: idempotent
    command: { program: sh, args: ["-c", "test -f out.txt"] }
  review: { mode: agent, agent: critic, idempotency: idempotent }
workflows:
  - id: land
    phases: [implement, check, review]
    post_success: { merge: { strategy: MERGESTRATEGY, target_branch: main, create_pr: CREATEPR } }
"""

FAKE_GH = """#!/bin/sh
echo "$*" >> "{calls}"
case "$1 $2" in
  "auth status") exit 0 ;;
  "pr list") if [ -f "{state}" ]; then cat "{state}"; else echo "[]"; fi; exit 0 ;;
  "pr create")
    echo '[{{"url": "https://example.test/pr/1"}}]' > "{state}"
    echo "https://example.test/pr/1"; exit 0 ;;
esac
exit 1
"""

MERGE_BOUNDARIES = [
    f"{step}.{point}"
    for step in ("agent", "commit", "command", "merge")
    for point in ("intent", "effect", "commit")
]
PR_BOUNDARIES = [
    f"{step}.{point}" for step in ("push", "pr") for point in ("intent", "effect", "commit")
]


def _runner() -> list[str]:
    exe = Path(sys.executable).with_name("animus-workflow-runner")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "animus_workflow_runner.cli"]


def _project(tmp_path: Path, *, pr: bool) -> tuple[WorkflowProject, Path]:
    yaml = WORKFLOW.replace("MERGESTRATEGY", "squash" if pr else "merge").replace(
        "CREATEPR", "true" if pr else "false"
    )
    p = make_workflow_project(tmp_path, yaml)
    counter = tmp_path / "counter"
    p.script(
        "10-implement",
        {
            "match": {"phase": "implement"},
            "steps": [
                {"run": {"command": f"echo edit >> {counter}"}},
                {"write_file": {"path": "out.txt", "content": "work\n"}},
                {"text": "implemented"},
                {
                    "decision": {
                        "verdict": "advance",
                        "reason": "written",
                        "confidence": 0.9,
                        "risk": "low",
                    }
                },
            ],
        },
    )
    p.script(
        "20-review",
        {
            "match": {"phase": "review"},
            "steps": [
                {"run": {"command": f"echo review >> {counter}"}},
                {
                    "decision": {
                        "verdict": "advance",
                        "reason": "fine",
                        "confidence": 0.9,
                        "risk": "low",
                    }
                },
            ],
        },
    )
    return p, counter


def _execute(
    p: WorkflowProject, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_runner(), "execute", "--project-root", str(p.root), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _kill_then_resume(p: WorkflowProject, boundary: str, env: dict[str, str]) -> str:
    task = p.create_task()
    run_id = f"wf-kill-{boundary.replace('.', '-')}"
    killed = _execute(
        p,
        ["--task-id", task, "--run-id", run_id],
        {**env, "ANIMUS_TESTING": "1", "ANIMUS_TEST_KILL_AT": f"{boundary}:1"},
    )
    assert killed.returncode == -signal.SIGKILL, (
        boundary,
        killed.returncode,
        killed.stderr[-2000:],
    )
    resumed = _execute(p, ["--workflow-id", run_id, "--resume"], env)
    # Exactly the uncommitted side-effecting agent step needs --force.
    assert (resumed.returncode == 4) == (boundary == "agent.intent"), (boundary, resumed.stderr)
    if resumed.returncode == 4:
        # Only an interrupted side-effecting step may refuse, and it must say how to go on.
        err = json.loads(resumed.stderr.strip().splitlines()[-1])["error"]
        assert boundary == "agent.intent", (boundary, err)
        assert "implement" in err["message"]
        assert "--force" in err["message"] + json.dumps(err)
        resumed = _execute(p, ["--workflow-id", run_id, "--resume", "--force"], env)
    assert resumed.returncode == 0, (boundary, resumed.stdout, resumed.stderr[-3000:])
    assert json.loads(resumed.stdout.strip().splitlines()[-1])["status"] == "completed"
    return task


@pytest.mark.parametrize("boundary", MERGE_BOUNDARIES)
def test_sigkill_at_each_step_boundary_then_resume_lands_exactly_once(
    tmp_path: Path, boundary: str
) -> None:
    p, counter = _project(tmp_path, pr=False)
    base = git(p.root, "rev-parse", "main", env=p.env)
    task = _kill_then_resume(p, boundary, p.env)

    lines = counter.read_text().split()
    assert lines.count("edit") == 1, boundary
    assert lines.count("review") == 1, boundary
    subjects = git(p.root, "log", "--format=%s", f"{base}..main", env=p.env).splitlines()
    assert subjects.count("implement") == 1, (boundary, subjects)
    merges = git(p.root, "rev-list", "--merges", f"{base}..main", env=p.env).split()
    assert len(merges) == 1, (boundary, subjects)
    with p.hub() as hub:
        assert hub.tasks.get(task).status.value == "done"
        steps = (
            hub.db.connection()
            .execute("SELECT name, status FROM step_journal ORDER BY ordinal")
            .fetchall()
        )
    assert all(s["status"] == "committed" for s in steps), [tuple(s) for s in steps]


@pytest.mark.parametrize("boundary", PR_BOUNDARIES)
def test_sigkill_around_push_and_pr_opens_one_pull_request(tmp_path: Path, boundary: str) -> None:
    p, counter = _project(tmp_path, pr=True)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--bare", "-q", str(origin)], check=True, env=p.env)
    git(p.root, "remote", "add", "origin", str(origin), env=p.env)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls, state = tmp_path / "gh-calls", tmp_path / "gh-state"
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.format(calls=calls, state=state))
    gh.chmod(0o755)
    env = {**p.env, "PATH": f"{bin_dir}{os.pathsep}{p.env['PATH']}"}

    _kill_then_resume(p, boundary, env)

    created = [c for c in calls.read_text().splitlines() if c.startswith("pr create")]
    assert len(created) == 1, (boundary, calls.read_text())
    assert "--head animus/TASK-001" in created[0]
    assert "--base main" in created[0]
    pushed = git(origin, "rev-parse", "refs/heads/animus/TASK-001", env=p.env)
    assert pushed == git(p.root, "rev-parse", "animus/TASK-001", env=p.env)
    assert counter.read_text().split().count("edit") == 1
