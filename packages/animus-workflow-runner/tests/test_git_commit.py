from __future__ import annotations

from pathlib import Path

import pytest

from animus_protocol.envelope import InvalidInputError
from animus_workflow_runner.git import (
    DEFAULT_IDENTITY,
    GitIdentity,
    commit_changes,
    ensure_identity,
    ensure_worktree,
    pending_changes,
)
from animus_workflow_runner.git.testing import git, init_repo, isolated_git_environment

BOT = GitIdentity(name="Animus Bot", email="bot@animus.test")


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in isolated_git_environment(tmp_path).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "project", files={"README.md": "hi\n", ".gitignore": "*.log\n"})
    return ensure_worktree(repo, tmp_path / "worktrees", "TASK-1").path


def test_commit_stages_everything_and_records_identity(worktree: Path) -> None:
    (worktree / "README.md").write_text("changed\n")
    (worktree / "src").mkdir()
    (worktree / "src" / "new.py").write_text("x = 1\n")
    (worktree / "debug.log").write_text("ignored\n")
    assert pending_changes(worktree) == ["README.md", "src/new.py"]

    result = commit_changes(worktree, "implement: add new module", identity=BOT)
    assert result.committed is True
    assert result.files == ["README.md", "src/new.py"]
    assert result.commit == git(worktree, "rev-parse", "HEAD")
    # The configured identity wins over GIT_AUTHOR_* inherited from the environment.
    assert git(worktree, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s") == (
        "Animus Bot <bot@animus.test>|Animus Bot <bot@animus.test>|implement: add new module"
    )
    assert pending_changes(worktree) == []
    assert "debug.log" not in git(worktree, "ls-files")


def test_nothing_to_commit_reports_head_once(worktree: Path) -> None:
    (worktree / "a.txt").write_text("a\n")
    first = commit_changes(worktree, "phase one", identity=BOT)
    retry = commit_changes(worktree, "phase one", identity=BOT)
    assert retry.committed is False
    assert retry.commit == first.commit
    assert retry.files == []
    assert git(worktree, "rev-list", "--count", "HEAD") == "2"


def test_retry_after_crash_between_add_and_commit(worktree: Path) -> None:
    (worktree / "b.txt").write_text("b\n")
    git(worktree, "add", "--all")  # the runner died right after staging
    result = commit_changes(worktree, "phase two", identity=BOT)
    assert result.committed is True
    assert result.files == ["b.txt"]


def test_deletions_and_renames_are_committed(worktree: Path) -> None:
    (worktree / "README.md").rename(worktree / "README.txt")
    result = commit_changes(worktree, "rename", identity=BOT)
    assert result.files == ["README.md", "README.txt"]


def test_allow_empty_and_trailers(worktree: Path) -> None:
    result = commit_changes(
        worktree, "checkpoint", identity=BOT, allow_empty=True, trailers={"Animus-Run": "r1"}
    )
    assert result.committed is True
    assert result.files == []
    assert "Animus-Run: r1" in git(worktree, "log", "-1", "--format=%B")


def test_message_starting_with_hash_is_kept(worktree: Path) -> None:
    (worktree / "c.txt").write_text("c\n")
    commit_changes(worktree, "#42 fix the thing", identity=BOT)
    assert git(worktree, "log", "-1", "--format=%s") == "#42 fix the thing"


def test_operator_config_is_never_written(worktree: Path, tmp_path: Path) -> None:
    config = tmp_path / "project" / ".git" / "config"
    before = config.read_bytes()
    (worktree / "d.txt").write_text("d\n")
    commit_changes(worktree, "d", identity=BOT)
    ensure_identity(worktree, "Someone", "someone@example.test")
    assert config.read_bytes() == before


def test_ensure_identity_resolution(worktree: Path) -> None:
    assert ensure_identity(worktree) == DEFAULT_IDENTITY
    git(worktree, "config", "user.name", "Repo Person")
    git(worktree, "config", "user.email", "repo@example.test")
    assert ensure_identity(worktree) == GitIdentity(name="Repo Person", email="repo@example.test")
    assert ensure_identity(worktree, "X", None).name == "X"
    assert ensure_identity(worktree, "X", None).email == "repo@example.test"


@pytest.mark.parametrize(("name", "email"), [("", "a@b"), ("A", "<evil>"), ("A\nB", "a@b")])
def test_ensure_identity_rejects_bad_values(worktree: Path, name: str, email: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid git"):
        ensure_identity(worktree, name, email)


def test_bad_inputs(worktree: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="commit message is empty"):
        commit_changes(worktree, "  ", identity=BOT)
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InvalidInputError, match="not a git working tree"):
        commit_changes(plain, "m", identity=BOT)
    with pytest.raises(InvalidInputError, match="not a git working tree"):
        pending_changes(plain)
    with pytest.raises(InvalidInputError, match="not a directory"):
        ensure_identity(tmp_path / "missing")


def test_directory_inside_a_repo_is_not_a_worktree(worktree: Path) -> None:
    sub = worktree / "sub"
    sub.mkdir()
    (sub / "f.txt").write_text("f\n")
    with pytest.raises(InvalidInputError, match="inside the repository"):
        commit_changes(sub, "m", identity=BOT)
    assert pending_changes(worktree) == ["sub/f.txt"]
