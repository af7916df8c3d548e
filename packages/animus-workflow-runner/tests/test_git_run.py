from __future__ import annotations

from pathlib import Path

import pytest

from animus_protocol.envelope import InvalidInputError
from animus_workflow_runner.git import GitError
from animus_workflow_runner.git._run import git_env, run_git
from animus_workflow_runner.git.testing import init_repo, isolated_git_environment


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in isolated_git_environment(tmp_path).items():
        monkeypatch.setenv(key, value)


def test_failure_carries_argv_exit_code_and_stderr(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    with pytest.raises(GitError) as err:
        run_git(["rev-parse", "--verify", "no-such-ref"], cwd=repo)
    exc = err.value
    assert exc.argv == ["git", "rev-parse", "--verify", "no-such-ref"]
    assert exc.returncode == 128
    assert "no-such-ref" in exc.stderr or "Needed a single revision" in exc.stderr
    payload = exc.to_payload()
    assert payload["code"] == "git_failed"
    assert payload["details"]["argv"] == exc.argv


def test_unchecked_failure_is_returned(tmp_path: Path) -> None:
    out = run_git(["rev-parse", "--verify", "nope"], cwd=tmp_path, check=False)
    assert not out.ok
    assert out.returncode != 0


def test_missing_cwd_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a directory"):
        run_git(["status"], cwd=tmp_path / "missing")


def test_environment_never_prompts_and_ignores_redirects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = init_repo(tmp_path / "r")
    other = init_repo(tmp_path / "other")
    # A GIT_DIR inherited from a hook must not redirect the runner to another repository.
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    top = run_git(["rev-parse", "--show-toplevel"], cwd=repo).stdout.strip()
    assert top == str(repo)
    env = git_env()
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["LC_ALL"] == "C"
    assert "GIT_DIR" not in env


def test_timeout_kills_git_and_its_children(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    # A shell alias stands in for a hung hook or ssh: git's child holds the pipes open, so
    # only killing the whole process group lets the call return.
    with pytest.raises(GitError, match="timed out"):
        run_git(["hang"], cwd=repo, config=["-c", "alias.hang=!sleep 60"], timeout=0.5)
