from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from animus_core.project import ProjectRootError, git_common_root, resolve_project_root


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(autouse=True)
def _no_enclosing_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # nox puts TMPDIR inside the workspace checkout; stop git from finding that repository
    # above the test's own directories.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    (root / "a.txt").write_text("a\n")
    _git(root, "add", "a.txt")
    _git(root, "commit", "-qm", "init")
    return root


def test_explicit_root_wins(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    assert resolve_project_root(other, cwd=repo) == other.resolve()


def test_explicit_root_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ProjectRootError, match="does not exist"):
        resolve_project_root(tmp_path / "missing")
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(ProjectRootError, match="not a directory"):
        resolve_project_root(f)


def test_subdirectory_resolves_to_repo_root(repo: Path) -> None:
    sub = repo / "x" / "y"
    sub.mkdir(parents=True)
    assert resolve_project_root(None, cwd=sub) == repo.resolve()


def test_linked_worktree_resolves_to_main_checkout(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    _git(repo, "worktree", "add", "-q", "-b", "feature", str(wt))
    assert git_common_root(wt) == repo.resolve()
    assert resolve_project_root(None, cwd=wt / ".") == repo.resolve()


def test_outside_git_falls_back_to_cwd(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_common_root(plain) is None
    assert resolve_project_root(None, cwd=plain) == plain.resolve()
