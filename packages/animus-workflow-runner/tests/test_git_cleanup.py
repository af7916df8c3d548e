from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from animus_protocol.envelope import InvalidInputError, NotFoundError
from animus_workflow_runner.git import (
    GitIdentity,
    cleanup_worktree,
    commit_changes,
    ensure_worktree,
    list_managed_worktrees,
    merge_branch,
)
from animus_workflow_runner.git.testing import git, init_repo, isolated_git_environment

BOT = GitIdentity(name="Animus Bot", email="bot@animus.test")


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in isolated_git_environment(tmp_path).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "project")
    git(repo, "switch", "--quiet", "-c", "operator-work")  # main is checked out nowhere
    return repo


@pytest.fixture
def wt_dir(tmp_path: Path) -> Path:
    return tmp_path / "scope" / "worktrees"


def _task(repo: Path, wt_dir: Path, subject: str = "T-1", *, commit: bool = True) -> Path:
    wt = ensure_worktree(repo, wt_dir, subject).path
    if commit:
        (wt / f"{subject}.txt").write_text("work\n")
        commit_changes(wt, f"work on {subject}", identity=BOT)
    return wt


def _branches(repo: Path) -> list[str]:
    return git(repo, "branch", "--format=%(refname:short)").splitlines()


def test_dirty_worktree_survives_even_forced(repo: Path, wt_dir: Path) -> None:
    wt = _task(repo, wt_dir)
    merge_branch(repo, "animus/T-1", identity=BOT)
    (wt / "notes.txt").write_text("uncommitted thoughts\n")
    for force in (False, True):
        result = cleanup_worktree(
            repo, wt, "animus/T-1", target_branch="main", force=force, worktrees_dir=wt_dir
        )
        assert result.removed is False
        assert result.dirty_files == ["notes.txt"]
        assert "notes.txt" in result.reason
    assert (wt / "notes.txt").read_text() == "uncommitted thoughts\n"
    assert "animus/T-1" in _branches(repo)


def test_unmerged_worktree_is_kept_and_commits_named(repo: Path, wt_dir: Path) -> None:
    wt = _task(repo, wt_dir)
    result = cleanup_worktree(repo, wt, "animus/T-1", target_branch="main", worktrees_dir=wt_dir)
    assert result.removed is False
    assert len(result.unmerged_commits) == 1
    assert result.unmerged_commits[0].endswith("work on T-1")
    assert (wt / "T-1.txt").exists()


def test_forced_cleanup_of_unmerged_keeps_the_branch(repo: Path, wt_dir: Path) -> None:
    wt = _task(repo, wt_dir)
    tip = git(repo, "rev-parse", "animus/T-1")
    result = cleanup_worktree(
        repo, wt, "animus/T-1", target_branch="main", force=True, worktrees_dir=wt_dir
    )
    assert result.removed is True
    assert result.branch_deleted is False
    assert not wt.exists()
    assert git(repo, "rev-parse", "animus/T-1") == tip


@pytest.mark.parametrize("strategy", ["merge", "squash", "rebase"])
def test_merged_clean_worktree_is_removed_with_its_branch(
    repo: Path, wt_dir: Path, strategy: str
) -> None:
    wt = _task(repo, wt_dir)
    (wt / "second.txt").write_text("2\n")
    commit_changes(wt, "second", identity=BOT)
    (wt / "ignored-build-output").mkdir()
    assert merge_branch(repo, "animus/T-1", strategy=strategy, identity=BOT).status == "merged"  # type: ignore[arg-type]
    result = cleanup_worktree(repo, wt, "animus/T-1", target_branch="main", worktrees_dir=wt_dir)
    assert result.removed is True, result.reason
    assert result.branch_deleted is True
    assert not wt.exists()
    assert "animus/T-1" not in _branches(repo)
    assert "task-T-1" not in git(repo, "worktree", "list")
    again = cleanup_worktree(repo, wt, "animus/T-1", target_branch="main", worktrees_dir=wt_dir)
    assert again.removed is True
    assert again.already_absent is True


def test_paths_outside_the_managed_dir_are_refused(
    repo: Path, wt_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    git(repo, "worktree", "add", "--quiet", "-b", "animus/X", str(outside), "main")
    for path in (outside, repo, wt_dir, wt_dir / ".." / "elsewhere"):
        with pytest.raises(InvalidInputError, match="outside the managed worktrees dir"):
            cleanup_worktree(repo, path, "animus/X", target_branch="main", worktrees_dir=wt_dir)
    assert outside.exists()


def test_symlink_escaping_the_managed_dir_is_refused(
    repo: Path, wt_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    wt_dir.mkdir(parents=True)
    (wt_dir / "task-evil").symlink_to(outside)
    with pytest.raises(InvalidInputError, match="outside"):
        cleanup_worktree(
            repo, wt_dir / "task-evil", "animus/evil", target_branch="main", worktrees_dir=wt_dir
        )
    assert outside.exists()


def test_foreign_directory_inside_managed_dir_is_left_alone(repo: Path, wt_dir: Path) -> None:
    stray = wt_dir / "task-stray"
    stray.mkdir(parents=True)
    (stray / "file.txt").write_text("someone's\n")
    result = cleanup_worktree(
        repo, stray, "animus/stray", target_branch="main", worktrees_dir=wt_dir
    )
    assert result.removed is False
    assert (stray / "file.txt").exists()


def test_wrong_branch_and_lock_are_refused(repo: Path, wt_dir: Path) -> None:
    wt = _task(repo, wt_dir, commit=False)
    wrong = cleanup_worktree(repo, wt, "animus/other", target_branch="main", worktrees_dir=wt_dir)
    assert wrong.removed is False
    assert "not animus/other" in wrong.reason
    git(repo, "worktree", "lock", "--reason", "operator is using it", str(wt))
    locked = cleanup_worktree(repo, wt, "animus/T-1", target_branch="main", worktrees_dir=wt_dir)
    assert locked.removed is False
    assert "operator is using it" in locked.reason
    assert wt.exists()


def test_missing_directory_registration_is_pruned(repo: Path, wt_dir: Path) -> None:
    wt = _task(repo, wt_dir)
    merge_branch(repo, "animus/T-1", identity=BOT)
    shutil.rmtree(wt)
    result = cleanup_worktree(repo, wt, "animus/T-1", target_branch="main", worktrees_dir=wt_dir)
    assert result.removed is True
    assert result.already_absent is True
    assert result.branch_deleted is True
    assert "task-T-1" not in git(repo, "worktree", "list")


def test_non_animus_branch_is_never_deleted(repo: Path, wt_dir: Path) -> None:
    wt = wt_dir / "task-manual"
    wt_dir.mkdir(parents=True)
    git(repo, "worktree", "add", "--quiet", "-b", "feature/manual", str(wt), "main")
    result = cleanup_worktree(
        repo, wt, "feature/manual", target_branch="main", worktrees_dir=wt_dir
    )
    assert result.removed is True
    assert result.branch_deleted is False
    assert "feature/manual" in _branches(repo)


def test_unknown_target_branch(repo: Path, wt_dir: Path) -> None:
    wt = _task(repo, wt_dir, commit=False)
    with pytest.raises(NotFoundError, match="nope"):
        cleanup_worktree(repo, wt, "animus/T-1", target_branch="nope", worktrees_dir=wt_dir)


def test_list_managed_worktrees_statuses(repo: Path, wt_dir: Path) -> None:
    clean = _task(repo, wt_dir, "CLEAN", commit=False)
    dirty = _task(repo, wt_dir, "DIRTY", commit=False)
    (dirty / "wip.txt").write_text("wip\n")
    unmerged = _task(repo, wt_dir, "UNMERGED")
    missing = _task(repo, wt_dir, "MISSING", commit=False)
    shutil.rmtree(missing)
    (wt_dir / "stray").mkdir()
    listed = {w.path.name: w for w in list_managed_worktrees(repo, wt_dir, target_branch="main")}
    assert {name: w.status for name, w in listed.items()} == {
        clean.name: "clean",
        dirty.name: "dirty",
        unmerged.name: "unmerged",
        missing.name: "missing",
        "stray": "unregistered",
    }
    assert listed[dirty.name].dirty_files == ["wip.txt"]
    assert listed[unmerged.name].unmerged_commits[0].endswith("work on UNMERGED")
    assert listed[clean.name].branch == "animus/CLEAN"
    # The default branch is used when no target is given.
    assert {w.status for w in list_managed_worktrees(repo, wt_dir)} == set(
        {name: w.status for name, w in listed.items()}.values()
    )
