"""Helpers for tests that run real workflows: a git project with ``.animus/`` config, the mock
provider reachable from it, per-phase mock scripts, and an isolated environment.

Used by this package's tests, the CLI's tests, the integration tests and the benchmark.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from animus_workflow_runner.git.testing import init_repo, isolated_git_environment

__all__ = [
    "MOCK_SRC",
    "QUICK_WORKFLOW",
    "WorkflowProject",
    "make_workflow_project",
    "three_phase_workflows",
]

MOCK_SRC = Path(__file__).resolve().parents[4] / "plugins" / "animus-provider-mock" / "src"


# One agent phase (the mock provider) and a command phase that succeeds; worktree skipped.
QUICK_WORKFLOW = """
agents:
  builder: { tool: mock }
phases:
  implement: { mode: agent, agent: builder, idempotency: idempotent }
  check: { mode: command, idempotency: idempotent, command: { program: "true" } }
workflows:
  - id: quick
    worktree: skip
    phases: [implement, check]
default_workflow_ref: quick
"""


def three_phase_workflows(build_idempotency: str = "idempotent") -> str:
    """plan -> build -> review, three mock agent phases without a worktree (the daemon's
    tests and benchmark drain these); ``build_idempotency`` sets the middle phase's."""
    return f"""
agents:
  builder: {{ tool: mock }}
phases:
  plan: {{ mode: agent, agent: builder, directive: "Plan.", idempotency: idempotent }}
  build: {{ mode: agent, agent: builder, directive: "Build.", idempotency: {build_idempotency} }}
  review: {{ mode: agent, agent: builder, directive: "Review.", idempotency: idempotent }}
workflows:
  - id: three
    worktree: skip
    phases: [plan, build, review]
default_workflow_ref: three
"""


def _launcher(python: str) -> str:
    return (
        f"#!{python}\n"
        "import sys\n"
        "try:\n"
        "    import animus_provider_mock\n"
        "except ImportError:\n"
        f"    sys.path.insert(0, {str(MOCK_SRC)!r})\n"
        "from animus_provider_mock import main\n"
        "main()\n"
    )


class WorkflowProject:
    """A project directory, its ``ANIMUS_HOME``, its mock scripts and the env for a run."""

    def __init__(self, root: Path, home: Path, scripts: Path, ceiling: Path) -> None:
        self.root = root
        self.home = home
        self.scripts = scripts
        self.ceiling = ceiling

    @property
    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            **isolated_git_environment(self.ceiling),
            "ANIMUS_HOME": str(self.home),
            "ANIMUS_MOCK_SCRIPT_DIR": str(self.scripts),
        }
        env.pop("ANIMUS_TEST_KILL_AT", None)
        return env

    def script(self, name: str, body: Mapping[str, Any] | list[Any]) -> Path:
        """Write a mock script (files are matched in name order; the first fit wins)."""
        path = self.scripts / f"{name}.json"
        path.write_text(json.dumps(body), encoding="utf-8")
        return path

    def hub(self) -> Any:
        from animus_core.hub import ServiceHub

        return ServiceHub(self.root, env=self.env)

    def create_task(self, title: str = "Add a greeting", **fields: Any) -> str:
        with self.hub() as hub:
            return str(hub.tasks.create(title=title, status="ready", **fields).id)

    def slow_agent(self, phase: str = "implement") -> Path:
        """Script ``phase``'s agent to work until the returned file exists (at most 30 s),
        then advance; a session stopped mid-wait is killed with it."""
        go = self.scripts.parent / "go"
        wait = f"i=0; while [ ! -f {go} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done"
        self.script(
            "10-slow",
            {
                "match": {"phase": phase},
                "steps": [
                    {"text": "thinking hard"},
                    {"run": {"command": wait}},
                    {"decision": {"verdict": "advance", "reason": "ok"}},
                ],
            },
        )
        return go


def make_workflow_project(
    tmp_path: Path,
    workflows_yaml: str,
    *,
    files: Mapping[str, str] | None = None,
    python: str | None = None,
) -> WorkflowProject:
    """A git repository on ``main`` with ``.animus/workflows.yaml`` and the mock provider."""
    root = tmp_path / "project"
    init_repo(root, files={".gitignore": ".animus/\n", **(files or {"README.md": "hello\n"})})
    animus = root / ".animus"
    (animus / "plugins").mkdir(parents=True)
    (animus / "workflows.yaml").write_text(workflows_yaml, encoding="utf-8")
    launcher = animus / "plugins" / "animus-provider-mock"
    launcher.write_text(_launcher(python or sys.executable), encoding="utf-8")
    launcher.chmod(0o755)
    scripts = tmp_path / "mock-scripts"
    scripts.mkdir()
    return WorkflowProject(root, tmp_path / "animus-home", scripts, tmp_path)
