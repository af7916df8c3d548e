from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from animus_protocol.envelope import InvalidInputError, UnavailableError
from animus_workflow_runner.git import (
    GitIdentity,
    commit_changes,
    create_pr,
    ensure_worktree,
    push_branch,
)
from animus_workflow_runner.git.testing import git, init_repo, isolated_git_environment

BOT = GitIdentity(name="Animus Bot", email="bot@animus.test")

# A stand-in for the GitHub CLI (GitHub is a network edge): it records its argv and keeps
# the open pull requests in a JSON file, answering `auth status`, `pr list` and `pr create`.
FAKE_GH = """\
import json, os, sys
state = os.environ["FAKE_GH_STATE"]
with open(os.path.join(state, "calls.jsonl"), "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
prs_file = os.path.join(state, "prs.json")
prs = json.load(open(prs_file)) if os.path.exists(prs_file) else []
args = sys.argv[1:]
def opt(name):
    return args[args.index(name) + 1]
if args[:2] == ["auth", "status"]:
    if os.path.exists(os.path.join(state, "logged-out")):
        print("You are not logged into any GitHub hosts. To log in, run: gh auth login",
              file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
if args[:2] == ["pr", "list"]:
    print(json.dumps([{"url": p["url"]} for p in prs if p["head"] == opt("--head")]))
    sys.exit(0)
if args[:2] == ["pr", "create"]:
    if os.path.exists(os.path.join(state, "create-fails")):
        print("pull request create failed: GraphQL: No commits between main and x",
              file=sys.stderr)
        sys.exit(1)
    url = "https://github.com/acme/widgets/pull/%d" % (len(prs) + 1)
    prs.append({"head": opt("--head"), "base": opt("--base"), "title": opt("--title"),
                "body": opt("--body"), "url": url})
    json.dump(prs, open(prs_file, "w"))
    print("Creating pull request for %s into %s\\n\\n%s" % (opt("--head"), opt("--base"), url))
    sys.exit(0)
print("unknown command", args, file=sys.stderr)
sys.exit(2)
"""


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in isolated_git_environment(tmp_path).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def gh_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "gh"
    script.write_text(f"#!{sys.executable}\n{FAKE_GH}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    state = tmp_path / "gh-state"
    state.mkdir()
    monkeypatch.setenv("FAKE_GH_STATE", str(state))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return state


def _calls(state: Path) -> list[list[str]]:
    log = state / "calls.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "project")
    wt = ensure_worktree(repo, tmp_path / "worktrees", "T-1").path
    (wt / "a.txt").write_text("a\n")
    commit_changes(wt, "add a", identity=BOT)
    return repo


def test_pr_created_then_reused(repo: Path, gh_state: Path) -> None:
    first = create_pr(repo, "animus/T-1", base="main", title="T-1: add a", body="Adds a.")
    assert first.status == "created"
    assert first.url == "https://github.com/acme/widgets/pull/1"
    second = create_pr(repo, "animus/T-1", base="main", title="T-1: add a", body="Adds a.")
    assert second.status == "already_open"
    assert second.url == first.url
    creates = [c for c in _calls(gh_state) if c[:2] == ["pr", "create"]]
    assert creates == [
        ["pr", "create", "--base", "main", "--head", "animus/T-1", "--title", "T-1: add a",
         "--body", "Adds a."]
    ]  # fmt: skip
    lists = [c for c in _calls(gh_state) if c[:2] == ["pr", "list"]]
    assert len(lists) == 2
    assert lists[0][2:4] == ["--head", "animus/T-1"]


def test_gh_missing_is_unavailable(repo: Path) -> None:
    result = create_pr(
        repo, "animus/T-1", base="main", title="t", body="b", gh_bin="animus-no-such-gh"
    )
    assert result.status == "unavailable"
    assert "not installed" in (result.reason or "")


def test_gh_logged_out_is_unavailable(repo: Path, gh_state: Path) -> None:
    (gh_state / "logged-out").touch()
    result = create_pr(repo, "animus/T-1", base="main", title="t", body="b")
    assert result.status == "unavailable"
    assert "gh auth login" in (result.reason or "")
    assert not [c for c in _calls(gh_state) if c[:1] == ["pr"]]


def test_gh_create_failure_is_reported(repo: Path, gh_state: Path) -> None:
    (gh_state / "create-fails").touch()
    result = create_pr(repo, "animus/T-1", base="main", title="t", body="b")
    assert result.status == "unavailable"
    assert "No commits between" in (result.reason or "")


def test_pr_bad_inputs(repo: Path, gh_state: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="title is empty"):
        create_pr(repo, "animus/T-1", base="main", title=" ", body="b")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InvalidInputError, match="not a git repository"):
        create_pr(plain, "animus/T-1", base="main", title="t", body="b")


def test_push_without_remote_is_skipped(repo: Path) -> None:
    result = push_branch(repo, "animus/T-1")
    assert result.status == "skipped"
    assert "origin" in (result.reason or "")


def test_push_to_a_real_remote_is_idempotent(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    first = push_branch(repo, "animus/T-1")
    again = push_branch(repo, "animus/T-1")
    tip = git(repo, "rev-parse", "animus/T-1")
    assert first.status == again.status == "pushed"
    assert first.commit == tip
    assert git(remote, "rev-parse", "refs/heads/animus/T-1") == tip


def test_push_rejected_when_remote_diverged(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "--quiet", "origin", "main:refs/heads/animus/T-1")  # unrelated tip there
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "diverge")
    git(repo, "push", "--quiet", "--force", "origin", "main:refs/heads/animus/T-1")
    with pytest.raises(UnavailableError, match="push of animus/T-1"):
        push_branch(repo, "animus/T-1")


def test_push_unknown_branch(repo: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        push_branch(repo, "animus/nope")
