"""SIGKILL at each step boundary of the git side effects, then retry: one effect, no debris.

The runner is a real child process that kills itself (SIGKILL, no cleanup) right after a
chosen step; the retry runs the same call again, as `workflow resume` would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from animus_workflow_runner.git import (
    GitIdentity,
    MergeStrategy,
    cleanup_worktree,
    commit_changes,
    ensure_worktree,
    merge_branch,
)
from animus_workflow_runner.git.testing import git, init_repo, isolated_git_environment

BOT = GitIdentity(name="Animus Bot", email="bot@animus.test")

CHILD = """\
import os, signal, sys
from pathlib import Path
from animus_workflow_runner.git import GitIdentity, merge as m

repo, wt_dir, strategy, boundary = sys.argv[1:5]

def die_after(name):
    real = getattr(m, name)
    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(m, name, wrapper)

die_after(boundary)
m.merge_branch(Path(repo), "animus/T-1", strategy=strategy, message="land T-1",
               identity=GitIdentity(name="Animus Bot", email="bot@animus.test"),
               worktrees_dir=Path(wt_dir))
sys.exit(3)  # not reached: the boundary always kills
"""


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in isolated_git_environment(tmp_path).items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("strategy", ["merge", "squash", "rebase"])
@pytest.mark.parametrize("boundary", ["_build", "_advance_target"])
def test_merge_killed_at_a_boundary_lands_exactly_once(
    tmp_path: Path, strategy: str, boundary: str
) -> None:
    repo = init_repo(tmp_path / "project")
    wt_dir = tmp_path / "worktrees"
    wt = ensure_worktree(repo, wt_dir, "T-1").path
    for name in ("a.txt", "b.txt"):
        (wt / name).write_text(f"{name}\n")
        commit_changes(wt, f"add {name}", identity=BOT)
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "operator moved main")
    git(repo, "switch", "--quiet", "-c", "operator-work")
    main_before = git(repo, "rev-parse", "main")

    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ)  # the fixture already isolated git here
    proc = subprocess.run(
        [sys.executable, str(script), str(repo), str(wt_dir), strategy, boundary],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    landed_by_child = git(repo, "rev-parse", "main") != main_before
    assert landed_by_child == (boundary == "_advance_target")

    how: MergeStrategy = strategy  # type: ignore[assignment]
    retry = merge_branch(
        repo, "animus/T-1", strategy=how, message="land T-1", identity=BOT, worktrees_dir=wt_dir
    )
    assert retry.status == ("already_merged" if landed_by_child else "merged")
    third = merge_branch(repo, "animus/T-1", strategy=how, identity=BOT, worktrees_dir=wt_dir)
    assert third.status == "already_merged"

    # Exactly one landing: count what the strategy leaves on main.
    new_commits = git(repo, "log", "--format=%s", f"{main_before}..main").splitlines()
    expected = {
        "merge": ["land T-1", "add b.txt", "add a.txt"],
        "squash": ["land T-1"],
        "rebase": ["add b.txt", "add a.txt"],
    }[strategy]
    assert new_commits == expected
    # No scratch worktree survives the retry.
    assert ".merge-" not in git(repo, "worktree", "list")
    assert not list(wt_dir.glob(".merge-*"))
    # And the task worktree is now removable, its branch merged.
    done = cleanup_worktree(repo, wt, "animus/T-1", target_branch="main", worktrees_dir=wt_dir)
    assert done.removed is True, done.reason
    assert done.branch_deleted is True
