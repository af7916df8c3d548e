from __future__ import annotations

from pathlib import Path

import pytest

from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_workflow_runner.git import (
    GitIdentity,
    commit_changes,
    ensure_worktree,
    merge_branch,
    merge_in_progress,
    start_conflict_resolution,
    unresolved_conflicts,
)
from animus_workflow_runner.git.testing import (
    checkout_snapshot,
    commit_file,
    git,
    init_repo,
    isolated_git_environment,
)

BOT = GitIdentity(name="Animus Bot", email="bot@animus.test")


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in isolated_git_environment(tmp_path).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    repo = init_repo(tmp_path / "project", files={"README.md": "base\n", "other.txt": "o\n"})
    wt = ensure_worktree(repo, tmp_path / "worktrees", "T-1").path
    (wt / "README.md").write_text("task version\n")
    commit_changes(wt, "task edits README", identity=BOT)
    return repo, wt


def test_conflict_round_trip_through_a_resolution_phase(setup: tuple[Path, Path]) -> None:
    repo, wt = setup
    commit_file(repo, "README.md", "operator version\n")
    operator_before = checkout_snapshot(repo)
    operator_before.pop("refs")  # the task branch moves during resolution; main must not
    main_before = git(repo, "rev-parse", "main")
    landing = merge_branch(repo, "animus/T-1", identity=BOT)
    assert landing.status == "conflict"
    assert landing.conflicted_files == ["README.md"]

    started = start_conflict_resolution(wt, "main", identity=BOT)
    assert started.status == "conflicts"
    assert started.conflicted_files == ["README.md"]
    assert merge_in_progress(wt)
    assert "<<<<<<< " in (wt / "README.md").read_text()
    # A resumed run finds the resolution under way instead of starting over.
    again = start_conflict_resolution(wt, "main", identity=BOT)
    assert again.status == "in_progress"
    assert again.conflicted_files == ["README.md"]

    # The agent stages the file but leaves the markers: the commit is refused.
    git(wt, "add", "README.md")
    assert unresolved_conflicts(wt) == ["README.md"]
    with pytest.raises(ConflictError, match=r"README\.md"):
        commit_changes(wt, "resolve", identity=BOT)

    (wt / "README.md").write_text("operator version\ntask version\n")
    resolved = commit_changes(wt, "resolve README conflict", identity=BOT)
    assert resolved.committed is True
    assert resolved.files == ["README.md"]
    assert len(git(wt, "log", "-1", "--format=%P").split()) == 2
    assert not merge_in_progress(wt)

    operator_after = checkout_snapshot(repo)
    operator_after.pop("refs")
    assert operator_after == operator_before  # untouched through all of it
    assert git(repo, "rev-parse", "main") == main_before
    landed = merge_branch(repo, "animus/T-1", strategy="squash", identity=BOT)
    assert landed.status == "merged"
    # main was checked out (clean) in the operator's checkout: it now shows the result.
    assert (repo / "README.md").read_text() == "operator version\ntask version\n"


def test_resolution_taking_one_side_still_concludes_the_merge(setup: tuple[Path, Path]) -> None:
    repo, wt = setup
    commit_file(repo, "README.md", "operator version\n")
    start_conflict_resolution(wt, "main", identity=BOT)
    git(wt, "checkout", "--ours", "README.md")
    git(wt, "add", "README.md")
    result = commit_changes(wt, "keep the task version", identity=BOT)
    assert result.committed is True
    assert len(git(wt, "log", "-1", "--format=%P").split()) == 2


def test_compatible_target_merges_cleanly(setup: tuple[Path, Path]) -> None:
    repo, wt = setup
    commit_file(repo, "other.txt", "operator changed other\n")
    started = start_conflict_resolution(wt, "main", identity=BOT)
    assert started.status == "merged_cleanly"
    assert started.commit == git(wt, "rev-parse", "HEAD")
    assert (wt / "other.txt").read_text() == "operator changed other\n"
    assert start_conflict_resolution(wt, "main", identity=BOT).status == "up_to_date"


def test_uncommitted_work_is_not_mixed_into_a_merge(setup: tuple[Path, Path]) -> None:
    repo, wt = setup
    commit_file(repo, "other.txt", "x\n")
    (wt / "wip.txt").write_text("wip\n")
    with pytest.raises(ConflictError, match=r"wip\.txt"):
        start_conflict_resolution(wt, "main", identity=BOT)
    assert not merge_in_progress(wt)


def test_bad_inputs(setup: tuple[Path, Path], tmp_path: Path) -> None:
    _, wt = setup
    with pytest.raises(NotFoundError, match="nope"):
        start_conflict_resolution(wt, "nope", identity=BOT)
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InvalidInputError, match="not a git working tree"):
        start_conflict_resolution(plain, "main", identity=BOT)
    assert unresolved_conflicts(wt) == []
