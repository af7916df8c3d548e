"""Compile: schema/version, effective runtime cascade, determinism, atomic write."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from animus_config import (
    compile_workflow_config,
    compiled_workflow,
    config_fingerprint,
    load_workflow_config,
    write_compiled,
)
from animus_protocol.paths import ScopePaths

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import Project


def test_shape_and_cascade(project: Project) -> None:
    project.write(
        "workflows.yaml",
        """\
        agents:
          builder: { tool: codex, reasoning_effort: high, skills: [b] }
          critic: { tool: gemini, model: gemini-x }
        phases:
          build: { mode: agent, agent: builder, skills: [a], runtime: { timeout_secs: 60 } }
          review: { mode: agent, agent: critic, runtime: { model: pinned } }
          routed: { mode: agent, agent: critic }
          check: { mode: command, command: { program: make, args: [test] } }
          gate: { mode: manual }
        workflows:
          - id: w
            phases: [build, review, routed, check, gate, {id: build, agent: critic}]
        daemon:
          phase_routing: { routed: { model: from-routing }, review: { model: loses } }
        """,
    )
    compiled = compile_workflow_config(project.load())
    assert compiled["schema"] == "animus.workflow-config.v2"
    assert compiled["version"] == 2
    cfg = compiled["config"]
    assert cfg["default_workflow_ref"] == "w"
    phases = cfg["workflows"][0]["phases"]
    build, review, routed, check, gate, build_as_critic = phases
    assert build["runtime"] == {
        "tool": "codex",
        "model": "gpt-5.4",
        "reasoning_effort": "high",
        "timeout_secs": 60,
    }
    assert build["skills"] == ["a", "b"]
    assert review["runtime"]["model"] == "pinned"
    assert routed["runtime"] == {"tool": "gemini", "model": "from-routing"}
    assert check["command"]["success_exit_codes"] == [0]
    assert check["command"]["cwd_mode"] == "task_root"
    assert "runtime" not in check
    assert gate["manual"]["approval_note_required"] is False
    assert build_as_critic["agent"] == "critic"
    assert build_as_critic["runtime"]["tool"] == "gemini"
    assert cfg["workflows"][0]["worktree"] == {"mode": "auto", "cleanup": True}


def test_deterministic_and_written_atomically(tmp_path: Path) -> None:
    env = {"ANIMUS_HOME": str(tmp_path / "home")}
    project = tmp_path / "proj"
    project.mkdir()
    first = compile_workflow_config(load_workflow_config(project, env={}))
    second = compile_workflow_config(load_workflow_config(project, env={}))
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    scope = ScopePaths.for_project(project, env)
    target = write_compiled(scope, first)
    assert target == scope.compiled_workflow_config
    before = target.read_bytes()
    write_compiled(scope, second)
    assert target.read_bytes() == before
    assert json.loads(before) == first
    assert [p.name for p in target.parent.iterdir()] == ["workflow-config.v2.json"]


def test_trigger_config_defaults_filled(project: Project) -> None:
    project.write(
        "workflows.yaml",
        project.MINIMAL
        + "triggers:\n"
        + "  - { id: fw, type: file_watcher, workflow_ref: main, config: { paths: [src] } }\n"
        + "  - { id: wh, type: webhook, workflow_ref: main }\n",
    )
    triggers = compile_workflow_config(project.load())["config"]["triggers"]
    assert triggers[0]["config"] == {"paths": ["src"], "debounce_secs": 5, "ignore": []}
    assert triggers[1]["config"] == {"max_triggers_per_minute": 10}
    assert triggers[0]["enabled"] is True


def test_compiled_workflow_lookup(tmp_path: Path) -> None:
    compiled = compile_workflow_config(load_workflow_config(tmp_path, env={}))
    default = compiled_workflow(compiled, None)
    assert default is not None
    assert default["id"] == "standard"
    quick = compiled_workflow(compiled, "quick")
    assert quick is not None
    assert [p["id"] for p in quick["phases"]] == ["implement", "test"]
    assert compiled_workflow(compiled, "missing") is None


def test_fingerprint_tracks_files(project: Project) -> None:
    empty = config_fingerprint(project.root)
    path = project.write("workflows.yaml", project.MINIMAL)
    first = config_fingerprint(project.root)
    assert first != empty
    assert config_fingerprint(project.root) == first
    path.write_text(project.MINIMAL + "\n")
    second = config_fingerprint(project.root)
    assert second != first
    project.write("workflows/extra.yaml", "{}\n")
    assert config_fingerprint(project.root) != second
