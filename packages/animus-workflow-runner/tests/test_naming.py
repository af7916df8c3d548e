from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from animus_workflow_runner.naming import (
    sanitize_ref_component,
    task_branch,
    task_worktree_path,
)


@pytest.mark.parametrize(
    ("raw", "expected_prefix"),
    [
        ("linear:ENG-7", "linear-ENG-7-"),
        ("a b/c", "a-b-c-"),
        ("..hidden", "hidden-"),
        ("x..y", "x.y-"),
        ("name.lock", "name-"),
        ("-lead-", "lead-"),
        ("///", "subject-"),
        ("", "subject-"),
    ],
)
def test_lossy_sanitize_adds_a_digest(raw: str, expected_prefix: str) -> None:
    out = sanitize_ref_component(raw)
    assert out.startswith(expected_prefix)
    assert len(out) == len(expected_prefix) + 6


@pytest.mark.parametrize("raw", ["TASK-012", "REQ-1", "v1.2", "a_b"])
def test_safe_ids_are_kept_verbatim(raw: str) -> None:
    assert sanitize_ref_component(raw) == raw


def test_ids_differing_only_in_unsafe_characters_do_not_collide() -> None:
    assert sanitize_ref_component("a:b") != sanitize_ref_component("a-b")
    assert sanitize_ref_component("a:b") != sanitize_ref_component("a/b")


@pytest.mark.parametrize("raw", ["TASK-1", "linear:ENG-7", "a b~c^d", "..x.lock", "weird@{id}"])
def test_branch_is_accepted_by_git(raw: str) -> None:
    proc = subprocess.run(
        ["git", "check-ref-format", "--branch", task_branch(raw)],
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_worktree_path(tmp_path: Path) -> None:
    assert task_worktree_path(tmp_path, "TASK-3") == tmp_path / "task-TASK-3"
    assert task_branch("TASK-3") == "animus/TASK-3"
