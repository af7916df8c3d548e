"""Publishing a task branch: push it, then open (or find) its pull request through ``gh``.

Both are naturally idempotent: pushing a branch the remote already has is a no-op, and an
open pull request for the branch is found with ``gh pr list --head`` before any is created.
GitHub is optional: no remote, no ``gh``, or an unauthenticated ``gh`` yields a
``skipped``/``unavailable`` result with the reason instead of an exception.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from animus_protocol.envelope import InvalidInputError, UnavailableError
from animus_workflow_runner.git._repo import commit_of, require_repo
from animus_workflow_runner.git._run import git_env, run_git

__all__ = ["PrResult", "PushResult", "create_pr", "push_branch"]

_GH_TIMEOUT_SECS = 120.0
_PUSH_TIMEOUT_SECS = 300.0


class PushResult(BaseModel):
    """``pushed`` (the remote now has the branch tip) or ``skipped`` with the reason."""

    model_config = ConfigDict(frozen=True)

    status: Literal["pushed", "skipped"]
    remote: str
    branch: str
    commit: str | None = None
    reason: str | None = None


class PrResult(BaseModel):
    """``created``, ``already_open`` (an open PR for the branch was reused) or ``unavailable``."""

    model_config = ConfigDict(frozen=True)

    status: Literal["created", "already_open", "unavailable"]
    url: str | None = None
    reason: str | None = None


def _short(branch: str) -> str:
    return branch[len("refs/heads/") :] if branch.startswith("refs/heads/") else branch


def push_branch(repo: Path, branch: str, remote: str = "origin") -> PushResult:
    """Push ``branch`` to ``remote`` (same name there); skipped when there is no such remote.

    A rejected push (the remote branch has diverged) raises :class:`UnavailableError` with
    git's message; nothing is forced.
    """
    root = require_repo(Path(repo))
    branch = _short(branch)
    tip = commit_of(root, f"refs/heads/{branch}")
    if tip is None:
        raise InvalidInputError(f"branch {branch} does not exist in {root}")
    has_remote = run_git(["remote", "get-url", remote], cwd=root, check=False, read_only=True)
    if not has_remote.ok:
        return PushResult(
            status="skipped",
            remote=remote,
            branch=branch,
            reason=f"the repository has no remote named {remote!r}",
        )
    out = run_git(
        ["push", "--porcelain", "--quiet", remote, f"refs/heads/{branch}:refs/heads/{branch}"],
        cwd=root,
        check=False,
        timeout=_PUSH_TIMEOUT_SECS,
    )
    if not out.ok:
        detail = (out.stderr.strip() or out.stdout.strip()).splitlines()
        raise UnavailableError(
            f"push of {branch} to {remote} failed: {detail[-1] if detail else out.returncode}",
            details={"remote": remote, "branch": branch, "stderr": out.stderr.strip()},
            hint="check the remote's URL and credentials, then retry",
        )
    return PushResult(status="pushed", remote=remote, branch=branch, commit=tip)


def _gh(
    gh: str, args: list[str], cwd: Path
) -> tuple[subprocess.CompletedProcess[str] | None, str | None]:
    env = git_env({"GH_PROMPT_DISABLED": "1", "GH_NO_UPDATE_NOTIFIER": "1", "NO_COLOR": "1"})
    try:
        proc = subprocess.run(
            [gh, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=_GH_TIMEOUT_SECS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        return None, f"cannot run {gh}: {exc}"
    except subprocess.TimeoutExpired:
        return None, f"{gh} {' '.join(args[:2])} timed out after {_GH_TIMEOUT_SECS:g} s"
    return proc, None


def _failure(proc: subprocess.CompletedProcess[str], what: str) -> str:
    lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
    return f"{what} failed (exit {proc.returncode}): {lines[-1] if lines else 'no message'}"


def create_pr(
    repo: Path,
    branch: str,
    *,
    base: str,
    title: str,
    body: str,
    gh_bin: str = "gh",
    draft: bool = False,
) -> PrResult:
    """Open a pull request from ``branch`` into ``base`` with ``gh``, or reuse the open one.

    The branch must already be on the remote (see :func:`push_branch`).
    """
    root = require_repo(Path(repo))
    branch = _short(branch)
    if not title.strip():
        raise InvalidInputError("pull request title is empty")
    if not base.strip():
        raise InvalidInputError("pull request base branch is empty")
    gh = shutil.which(gh_bin)
    if gh is None:
        return PrResult(
            status="unavailable",
            reason=f"GitHub CLI {gh_bin!r} is not installed or not on PATH; "
            "install gh and run `gh auth login` to open pull requests",
        )
    auth, err = _gh(gh, ["auth", "status"], root)
    if auth is None:
        return PrResult(status="unavailable", reason=err)
    if auth.returncode != 0:
        return PrResult(
            status="unavailable",
            reason=f"GitHub CLI is not authenticated ({_failure(auth, 'gh auth status')}); "
            "run `gh auth login`",
        )
    listed, err = _gh(
        gh,
        ["pr", "list", "--head", branch, "--state", "open", "--json", "url", "--limit", "1"],
        root,
    )
    if listed is None or listed.returncode != 0:
        return PrResult(
            status="unavailable",
            reason=err if listed is None else _failure(listed, "gh pr list"),
        )
    try:
        found = json.loads(listed.stdout or "[]")
    except json.JSONDecodeError:
        return PrResult(
            status="unavailable",
            reason=f"gh pr list printed something that is not JSON: {listed.stdout[:200]!r}",
        )
    if isinstance(found, list) and found and isinstance(found[0], dict) and found[0].get("url"):
        return PrResult(status="already_open", url=str(found[0]["url"]))
    args = ["pr", "create", "--base", base, "--head", branch, "--title", title, "--body", body]
    if draft:
        args.append("--draft")
    created, err = _gh(gh, args, root)
    if created is None or created.returncode != 0:
        return PrResult(
            status="unavailable",
            reason=err if created is None else _failure(created, "gh pr create"),
        )
    urls = [line for line in created.stdout.split() if line.startswith("http")]
    return PrResult(status="created", url=urls[-1] if urls else None)
