from __future__ import annotations

from pathlib import Path

import pytest

from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_workflow_runner.git import (
    GitIdentity,
    commit_changes,
    ensure_worktree,
    merge_branch,
)
from animus_workflow_runner.git import merge as merge_module
from animus_workflow_runner.git.testing import (
    checkout_snapshot,
    commit_file,
    git,
    init_repo,
    isolated_git_environment,
)
from animus_workflow_runner.naming import sanitize_ref_component

SCRATCH = ".merge-" + sanitize_ref_component("animus/T-1")

BOT = GitIdentity(name="Animus Bot", email="bot@animus.test")


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in isolated_git_environment(tmp_path).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "project", files={"README.md": "line one\nline two\n"})


@pytest.fixture
def wt_dir(tmp_path: Path) -> Path:
    return tmp_path / "scope" / "worktrees"


def _task_branch(repo: Path, wt_dir: Path, *files: tuple[str, str], subject: str = "T-1") -> Path:
    """A task worktree whose branch carries one commit per file."""
    info = ensure_worktree(repo, wt_dir, subject)
    for name, content in files:
        (info.path / name).write_text(content)
        commit_changes(info.path, f"write {name}", identity=BOT)
    return info.path


def _count(repo: Path, rev: str) -> int:
    return int(git(repo, "rev-list", "--count", rev))


def _detach_operator(repo: Path) -> None:
    """The operator works on another branch, so main is checked out nowhere."""
    git(repo, "switch", "--quiet", "-c", "operator-work")


def test_merge_commit_without_touching_operator_branch(repo: Path, wt_dir: Path) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"))
    commit_file(repo, "op.txt", "operator\n")  # main moved on: a real merge is needed
    _detach_operator(repo)
    before = checkout_snapshot(repo)
    result = merge_branch(repo, "animus/T-1", target_branch="main", strategy="merge", identity=BOT)
    assert result.status == "merged"
    assert result.commit == git(repo, "rev-parse", "main")
    parents = git(repo, "log", "-1", "--format=%P", "main").split()
    assert len(parents) == 2
    assert git(repo, "show", "main:a.txt") == "a"
    assert git(repo, "log", "-1", "--format=%an", "main") == "Animus Bot"
    after = checkout_snapshot(repo)
    assert {k: v for k, v in after.items() if k != "refs"} == {
        k: v for k, v in before.items() if k != "refs"
    }
    assert not list(wt_dir.glob(".merge-*"))
    assert ".merge-" not in git(repo, "worktree", "list")


def test_merge_twice_has_one_effect(repo: Path, wt_dir: Path) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"))
    _detach_operator(repo)
    first = merge_branch(repo, "animus/T-1", strategy="merge", identity=BOT, worktrees_dir=wt_dir)
    count = _count(repo, "main")
    second = merge_branch(repo, "animus/T-1", strategy="merge", identity=BOT, worktrees_dir=wt_dir)
    assert first.status == "merged"
    assert second.status == "already_merged"
    assert second.commit == first.commit
    assert _count(repo, "main") == count


def test_squash_with_trailers_and_idempotent(repo: Path, wt_dir: Path) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"), ("b.txt", "b\n"))
    tip = git(repo, "rev-parse", "animus/T-1")
    _detach_operator(repo)
    base = _count(repo, "main")
    result = merge_branch(
        repo, "animus/T-1", strategy="squash", message="TASK-1: add a and b", identity=BOT
    )
    assert result.status == "merged"
    assert _count(repo, "main") == base + 1
    body = git(repo, "log", "-1", "--format=%B", "main")
    assert body.startswith("TASK-1: add a and b")
    assert "Animus-Branch: animus/T-1" in body
    assert f"Animus-Head: {tip}" in body
    assert len(git(repo, "log", "-1", "--format=%P", "main").split()) == 1
    again = merge_branch(repo, "animus/T-1", strategy="squash", identity=BOT)
    assert again.status == "already_merged"
    assert again.commit == result.commit
    assert _count(repo, "main") == base + 1


def test_squash_after_more_work_lands_the_new_work(repo: Path, wt_dir: Path) -> None:
    wt = _task_branch(repo, wt_dir, ("a.txt", "a\n"))
    _detach_operator(repo)
    merge_branch(repo, "animus/T-1", strategy="squash", identity=BOT)
    (wt / "c.txt").write_text("c\n")
    commit_changes(wt, "rework", identity=BOT)
    result = merge_branch(repo, "animus/T-1", strategy="squash", identity=BOT)
    assert result.status == "merged"
    assert git(repo, "show", "main:c.txt") == "c"


def test_rebase_fast_forwards_linear_history(repo: Path, wt_dir: Path) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"), ("b.txt", "b\n"))
    commit_file(repo, "op.txt", "operator\n")
    op_tip = git(repo, "rev-parse", "main")
    _detach_operator(repo)
    result = merge_branch(repo, "animus/T-1", strategy="rebase", identity=BOT)
    assert result.status == "merged"
    # Linear: no merge commits, the operator's commit is below the two rebased ones.
    assert git(repo, "rev-list", "--merges", "--count", "main") == "0"
    assert git(repo, "rev-parse", "main~2") == op_tip
    # Rebased commits keep their author (the bot) and subjects.
    assert git(repo, "log", "-2", "--format=%an %s", "main").splitlines() == [
        "Animus Bot write b.txt",
        "Animus Bot write a.txt",
    ]
    again = merge_branch(repo, "animus/T-1", strategy="rebase", identity=BOT)
    assert again.status == "already_merged"
    assert git(repo, "rev-parse", "main") == result.commit


def test_conflict_is_reported_and_nothing_changes(repo: Path, wt_dir: Path) -> None:
    wt = _task_branch(repo, wt_dir, ("README.md", "task version\n"), ("new.txt", "n\n"))
    commit_file(repo, "README.md", "operator version\n")
    # The operator is mid-work on main: staged, unstaged and untracked changes, ignored files.
    (repo / ".gitignore").write_text("*.tmp\n")
    git(repo, "add", ".gitignore")
    (repo / "staged.txt").write_text("staged\n")
    git(repo, "add", "staged.txt")
    (repo / "untracked.txt").write_text("u\n")
    (repo / "cache.tmp").write_text("ignored\n")
    main_before = git(repo, "rev-parse", "main")
    branch_before = git(repo, "rev-parse", "animus/T-1")
    wt_before = checkout_snapshot(wt)
    for strategy in ("merge", "squash", "rebase"):
        before = checkout_snapshot(repo)
        result = merge_branch(
            repo,
            "animus/T-1",
            strategy=strategy,
            identity=BOT,
            worktrees_dir=wt_dir,
        )
        assert result.status == "conflict", strategy
        assert result.conflicted_files == ["README.md"]
        assert "README.md" in (result.reason or "")
        assert result.commit is None
        assert checkout_snapshot(repo) == before, strategy
    assert git(repo, "rev-parse", "main") == main_before
    assert git(repo, "rev-parse", "animus/T-1") == branch_before
    assert checkout_snapshot(wt) == wt_before
    assert not list(wt_dir.glob(".merge-*"))
    assert ".merge-" not in git(repo, "worktree", "list")


def test_clean_operator_checkout_on_target_is_updated(repo: Path, wt_dir: Path) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"))
    (repo / "scratch-notes.txt").write_text("untracked but harmless\n")
    result = merge_branch(repo, "animus/T-1", strategy="merge", identity=BOT)
    assert result.status == "merged"
    assert result.checkout_updated is not None
    assert git(repo, "rev-parse", "HEAD") == result.commit
    assert (repo / "a.txt").read_text() == "a\n"
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert (repo / "scratch-notes.txt").read_text() == "untracked but harmless\n"


def test_dirty_operator_checkout_is_untouched(repo: Path, wt_dir: Path) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"))
    (repo / "README.md").write_text("operator is editing\n")
    before = checkout_snapshot(repo)
    result = merge_branch(repo, "animus/T-1", strategy="squash", identity=BOT)
    assert result.status == "blocked_dirty_checkout"
    assert "README.md" in (result.reason or "")
    assert result.hint is not None
    assert checkout_snapshot(repo) == before
    # The hint's command lands the prepared squash commit once the operator is ready.
    command = result.hint.split("yourself: ", 1)[1]
    assert command.startswith(f"git -C {repo} merge --ff-only ")
    (repo / "README.md").write_text("line one\nline two\n")  # the operator finishes up
    git(repo, *command.split()[3:])
    assert (repo / "a.txt").read_text() == "a\n"
    assert "Animus-Head: " in git(repo, "log", "-1", "--format=%B")
    again = merge_branch(repo, "animus/T-1", strategy="squash", identity=BOT)
    assert again.status == "already_merged"


def test_untracked_file_in_the_way_blocks_without_damage(repo: Path, wt_dir: Path) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "from the task\n"))
    (repo / "a.txt").write_text("operator's own untracked a.txt\n")
    before = checkout_snapshot(repo)
    result = merge_branch(repo, "animus/T-1", strategy="merge", identity=BOT)
    assert result.status == "blocked_dirty_checkout"
    assert "a.txt" in (result.reason or "")
    assert checkout_snapshot(repo) == before


def test_target_checked_out_in_a_linked_worktree(repo: Path, wt_dir: Path, tmp_path: Path) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"))
    _detach_operator(repo)
    linked = tmp_path / "linked-main"
    git(repo, "worktree", "add", "--quiet", str(linked), "main")
    (linked / "README.md").write_text("dirty in the linked checkout\n")
    before = checkout_snapshot(linked)
    result = merge_branch(repo, "animus/T-1", identity=BOT)
    assert result.status == "blocked_dirty_checkout"
    assert str(linked) in (result.reason or "")
    assert checkout_snapshot(linked) == before


def test_concurrent_target_update_is_retried_and_keeps_both(
    repo: Path, wt_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"))
    _detach_operator(repo)
    real = merge_module._advance_target
    calls = {"n": 0}

    def racing(*args: object, **kwargs: object) -> tuple[bool, str | None]:
        calls["n"] += 1
        if calls["n"] == 1:  # the operator pushes a commit to main at the worst moment
            git(repo, "commit", "--quiet", "--allow-empty", "-m", "operator commit")
            git(repo, "update-ref", "refs/heads/main", "HEAD")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(merge_module, "_advance_target", racing)
    result = merge_branch(repo, "animus/T-1", identity=BOT)
    assert result.status == "merged"
    assert calls["n"] == 2
    assert git(repo, "log", "--format=%s", "main").splitlines()[1] == "operator commit"


def test_target_that_keeps_moving_fails_cleanly(
    repo: Path, wt_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"))
    _detach_operator(repo)
    real = merge_module._advance_target

    def always_racing(*args: object, **kwargs: object) -> tuple[bool, str | None]:
        git(repo, "commit", "--quiet", "--allow-empty", "-m", "operator commit")
        git(repo, "update-ref", "refs/heads/main", "HEAD")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(merge_module, "_advance_target", always_racing)
    with pytest.raises(ConflictError, match="kept moving"):
        merge_branch(repo, "animus/T-1", identity=BOT, max_attempts=2)
    assert git(repo, "rev-parse", "main") == git(repo, "rev-parse", "HEAD")
    assert git(repo, "log", "-1", "--format=%s", "main") == "operator commit"


def test_leftover_scratch_worktree_from_a_crash_is_replaced(repo: Path, wt_dir: Path) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"))
    _detach_operator(repo)
    git(repo, "worktree", "add", "--quiet", "--detach", str(wt_dir / SCRATCH), "main")
    (wt_dir / SCRATCH / "half-merged.txt").write_text("junk\n")
    result = merge_branch(repo, "animus/T-1", identity=BOT, worktrees_dir=wt_dir)
    assert result.status == "merged"
    assert not (wt_dir / SCRATCH).exists()


def test_bad_inputs(repo: Path, wt_dir: Path, tmp_path: Path) -> None:
    _task_branch(repo, wt_dir, ("a.txt", "a\n"))
    with pytest.raises(InvalidInputError, match="unknown merge strategy"):
        merge_branch(repo, "animus/T-1", strategy="octopus")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="no-such"):
        merge_branch(repo, "animus/no-such")
    with pytest.raises(NotFoundError, match="target branch"):
        merge_branch(repo, "animus/T-1", target_branch="nope")
    with pytest.raises(InvalidInputError, match="into itself"):
        merge_branch(repo, "main", target_branch="main")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InvalidInputError, match="not a git repository"):
        merge_branch(plain, "animus/T-1")


def test_ignored_file_in_the_way_is_not_overwritten(repo: Path, wt_dir: Path) -> None:
    commit_file(repo, ".gitignore", ".env\n")
    wt = _task_branch(repo, wt_dir)
    (wt / ".env").write_text("TASK=1\n")
    git(wt, "add", "--force", ".env")
    git(wt, "commit", "--quiet", "-m", "track .env")
    (repo / ".env").write_text("SECRET=operator\n")
    result = merge_branch(repo, "animus/T-1", identity=BOT)
    assert result.status == "blocked_dirty_checkout"
    assert (repo / ".env").read_text() == "SECRET=operator\n"
