"""Short forms: phase entries, worktree, verdict routes, the single top-level workflow."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from animus_config import compile_workflow_config

if TYPE_CHECKING:
    from conftest import Project

BASE = """\
agents:
  builder: { tool: claude }
phases:
  build: { mode: agent, agent: builder }
  check: { mode: command, command: { program: "true" } }
  review: { mode: agent, agent: builder }
  signoff: { mode: manual }
"""


def test_phase_entry_forms(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        BASE
        + """\
workflows:
  - id: w
    phases:
      - build
      - check: { on_verdict: { fail: build } }
      - review:
          max_rework_attempts: 1
          on_verdict: { rework: { target: build } }
      - signoff:
      - id: build
        agent: builder
""",
    )
    wf = project.load().config.workflows[0]
    assert [p.id for p in wf.phases] == ["build", "check", "review", "signoff", "build"]
    assert wf.phases[1].on_verdict.fail is not None
    assert wf.phases[1].on_verdict.fail.target == "build"
    assert wf.phases[2].max_rework_attempts == 1
    assert wf.phases[0].max_rework_attempts == 3  # default
    # A map-form entry's fields keep their own positions.
    project.write(
        "workflows.yaml",
        path.read_text().replace("max_rework_attempts: 1", "max_rework_attempts: -1"),
    )
    diag = project.only(project.fail(), "workflows[0].phases[2].max_rework_attempts")
    assert project.at(diag) == project.pos(path, 14, "-1")


@pytest.mark.parametrize(
    ("form", "mode"),
    [
        ("skip", "skip"),
        ("required", "required"),
        ("true", "required"),
        ("false", "skip"),
        ("{ mode: auto, base_ref: develop }", "auto"),
    ],
)
def test_worktree_short_forms(project: Project, form: str, mode: str) -> None:
    project.write(
        "workflows.yaml",
        BASE + f"workflows:\n  - id: w\n    worktree: {form}\n    phases: [build]\n",
    )
    assert project.load().config.workflows[0].worktree.mode == mode


def test_worktree_bad_mode(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        BASE + "workflows:\n  - id: w\n    worktree: sometimes\n    phases: [build]\n",
    )
    diag = project.only(project.fail(), "workflows[0].worktree.mode")
    assert project.at(diag) == project.pos(path, 10, "sometimes")


def test_single_top_level_workflow_form(project: Project) -> None:
    path = project.write(
        "workflows/solo.yaml",
        """\
        id: solo
        name: Solo
        phases:
          - build
          - ghost
        """,
    )
    project.write("workflows.yaml", BASE)
    err = project.fail()
    diag = project.only(err, "workflows[0].phases[1].id")
    assert project.at(diag) == project.pos(path, 5, "ghost")
    path.write_text("id: solo\nname: Solo\nphases: [build]\n")
    cfg = project.load().config
    assert [w.id for w in cfg.workflows] == ["solo"]


def test_sub_workflow_expanded_inline_in_compile(project: Project) -> None:
    project.write(
        "workflows.yaml",
        BASE
        + """\
workflows:
  - id: verify
    phases: [check, review]
  - id: full
    phases:
      - build
      - workflow_ref: verify
      - id: signoff
        on_verdict: { rework: { target: review } }
""",
    )
    compiled = compile_workflow_config(project.load())
    full = next(w for w in compiled["config"]["workflows"] if w["id"] == "full")
    assert [p["id"] for p in full["phases"]] == ["build", "check", "review", "signoff"]
    assert [p.get("from_workflow") for p in full["phases"]] == [None, "verify", "verify", None]


def test_workflow_ref_entry_takes_no_other_keys(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        BASE
        + "workflows:\n  - id: a\n    phases: [build]\n  - id: b\n    phases:\n"
        + "      - { workflow_ref: a, agent: builder }\n",
    )
    diag = project.only(project.fail(), "workflows[1].phases[0]")
    assert diag.line == 13
    assert "takes no other keys" in diag.message
    assert diag.file == str(path)
