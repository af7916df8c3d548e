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
    ("raw", "expected"),
    [
        ("TASK-012", "TASK-012"),
        ("linear:ENG-7", "linear-ENG-7"),
        ("a b/c", "a-b-c"),
        ("..hidden", "hidden"),
        ("x..y", "x.y"),
        ("name.lock", "name"),
        ("-lead-", "lead"),
        ("///", "subject"),
        ("", "subject"),
    ],
)
def test_sanitize(raw: str, expected: str) -> None:
    assert sanitize_ref_component(raw) == expected


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
