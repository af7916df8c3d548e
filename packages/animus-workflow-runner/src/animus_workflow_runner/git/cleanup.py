"""Removing managed worktrees without ever destroying someone's work.

A worktree is removed only when all of these hold: it lies inside the managed worktrees dir,
it is a registered worktree of this repository on the expected branch, it has no uncommitted
change (untracked files included), it is not locked, and every commit of its branch is
contained in the target branch (directly, as a squash whose ``Animus-Head`` trailer names it,
or as an equivalent patch after a rebase). Otherwise the result says why and names the files
or commits. Removal goes through ``git worktree remove`` (which re-checks cleanliness), never
a recursive delete; the branch is deleted only when merged, and only an ``animus/`` branch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from animus_protocol.envelope import InvalidInputError, NotFoundError
from animus_protocol.paths import ScopePaths
from animus_workflow_runner.git._repo import (
    RegisteredWorktree,
    commit_of,
    default_branch,
    find_worktree,
    is_ancestor,
    list_worktrees,
    require_repo,
    status_paths,
)
from animus_workflow_runner.git._run import run_git
from animus_workflow_runner.git.merge import BRANCH_TRAILER, HEAD_TRAILER
from animus_workflow_runner.naming import BRANCH_PREFIX

__all__ = [
    "CleanupResult",
    "ManagedWorktree",
    "ManagedWorktreeStatus",
    "cleanup_worktree",
    "list_managed_worktrees",
    "unmerged_commits",
]

ManagedWorktreeStatus = Literal["clean", "dirty", "unmerged", "missing", "unregistered"]
_LISTED_COMMITS = 20


class CleanupResult(BaseModel):
    """``removed`` is True when the worktree no longer exists (``already_absent`` if an
    earlier call, or someone else, removed it). A refusal names the files or commits."""

    model_config = ConfigDict(frozen=True)

    removed: bool
    reason: str
    path: Path
    branch: str
    branch_deleted: bool = False
    already_absent: bool = False
    dirty_files: list[str] = []
    unmerged_commits: list[str] = []


class ManagedWorktree(BaseModel):
    """One worktree (or stray directory) under the managed worktrees dir."""

    model_config = ConfigDict(frozen=True)

    path: Path
    branch: str | None
    head: str | None
    status: ManagedWorktreeStatus
    locked: str | None = None
    dirty_files: list[str] = []
    unmerged_commits: list[str] = []


def _inside(path: Path, root: Path) -> bool:
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real != base and real.startswith(base.rstrip(os.sep) + os.sep)


def _squashed_heads(repo: Path, target: str, branch: str) -> list[str]:
    out = run_git(
        ["log", "--format=%B%x00", "--fixed-strings", f"--grep={BRANCH_TRAILER}: {branch}", target],
        cwd=repo,
        read_only=True,
    )
    heads: list[str] = []
    for body in out.stdout.split("\0"):
        lines = [line.strip() for line in body.splitlines()]
        # --grep matches substrings (animus/T-1 inside animus/T-10): require the exact line.
        if f"{BRANCH_TRAILER}: {branch}" not in lines:
            continue
        for line in lines:
            if line.startswith(f"{HEAD_TRAILER}: "):
                sha = line.split(":", 1)[1].strip()
                if commit_of(repo, sha) is not None:
                    heads.append(sha)
    return heads


def unmerged_commits(repo: Path, branch: str, target: str) -> list[str]:
    """``<short sha> <subject>`` of each commit on ``branch`` whose change ``target`` lacks."""
    tip = commit_of(repo, f"refs/heads/{branch}")
    if tip is None or is_ancestor(repo, tip, target):
        return []
    squashed = _squashed_heads(repo, target, branch)
    listed = run_git(["rev-list", tip, "--not", target, *squashed], cwd=repo, read_only=True)
    candidates = listed.lines()
    if not candidates:
        return []
    cherry = run_git(["cherry", target, tip], cwd=repo, read_only=True)
    applied = {line[2:].strip() for line in cherry.lines() if line.startswith("- ")}
    missing = [sha for sha in candidates if sha not in applied]
    if not missing:
        return []
    shown = run_git(
        ["show", "-s", "--format=%h %s", *missing[:_LISTED_COMMITS]], cwd=repo, read_only=True
    ).lines()
    if len(missing) > _LISTED_COMMITS:
        shown.append(f"... and {len(missing) - _LISTED_COMMITS} more")
    return shown


def _require_target(repo: Path, target_branch: str) -> str:
    if commit_of(repo, f"refs/heads/{target_branch}") is None:
        raise NotFoundError(
            f"target branch {target_branch} does not exist in {repo}",
            details={"target_branch": target_branch},
        )
    return f"refs/heads/{target_branch}"


def _delete_branch_if_merged(
    repo: Path, branch: str, target_ref: str, worktrees: list[RegisteredWorktree]
) -> tuple[bool, str]:
    tip = commit_of(repo, f"refs/heads/{branch}")
    if tip is None:
        return False, "branch already gone"
    if not branch.startswith(BRANCH_PREFIX):
        return False, f"branch {branch} is not an Animus branch; kept"
    holder = find_worktree(worktrees, branch=branch)
    if holder is not None:
        return False, f"branch {branch} is checked out at {holder.path}; kept"
    if unmerged_commits(repo, branch, target_ref):
        return False, f"branch {branch} has unmerged commits; kept"
    out = run_git(["update-ref", "-d", f"refs/heads/{branch}", tip], cwd=repo, check=False)
    if not out.ok:
        return False, f"branch {branch} moved while cleaning up; kept"
    return True, f"branch {branch} deleted (merged)"


def cleanup_worktree(
    project_root: Path,
    worktree_path: Path,
    branch: str,
    *,
    target_branch: str,
    force: bool = False,
    worktrees_dir: Path | None = None,
) -> CleanupResult:
    """Remove a managed worktree when that loses nothing; otherwise report why not.

    ``force`` removes a clean worktree whose branch is not merged yet: its commits stay safe
    on the branch, which is then kept. Uncommitted work is never removed, force or not.
    ``worktrees_dir`` is the managed root (the scope's ``worktrees/`` when None); a path
    outside it is an :class:`InvalidInputError`.
    """
    repo = require_repo(Path(project_root))
    managed = (
        worktrees_dir if worktrees_dir is not None else ScopePaths.for_project(repo).worktrees_dir
    )
    path = Path(worktree_path)
    if not _inside(path, managed):
        raise InvalidInputError(
            f"refusing to clean up {path}: it is outside the managed worktrees dir {managed}",
            details={"path": str(path), "managed_dir": str(managed)},
            hint="Animus only removes worktrees it manages; remove others with git yourself",
        )
    target_ref = _require_target(repo, target_branch)
    branch = branch.removeprefix("refs/heads/")

    def outcome(removed: bool, reason: str, **extra: object) -> CleanupResult:
        return CleanupResult.model_validate(
            {"removed": removed, "reason": reason, "path": path, "branch": branch, **extra}
        )

    worktrees = list_worktrees(repo)
    entry = find_worktree(worktrees, path=path)
    if entry is None or not path.exists():
        if path.exists():
            return outcome(False, f"{path} is not a worktree of {repo}; left alone")
        if entry is not None:
            run_git(["worktree", "prune"], cwd=repo)  # only prunes registrations of missing dirs
            worktrees = list_worktrees(repo)
        deleted, why = _delete_branch_if_merged(repo, branch, target_ref, worktrees)
        return outcome(
            True, f"worktree already absent; {why}", already_absent=True, branch_deleted=deleted
        )
    if entry.is_main:
        return outcome(False, f"{path} is the repository's main working tree; left alone")
    if entry.branch != branch:
        return outcome(
            False,
            f"{path} is on {entry.branch or 'a detached HEAD'}, not {branch}; left alone",
        )
    if entry.locked is not None:
        return outcome(False, f"{path} is locked ({entry.locked or 'no reason given'}); left alone")
    dirty = status_paths(path)
    if dirty:
        return outcome(
            False,
            f"{path} has uncommitted changes ({', '.join(dirty[:10])}); kept",
            dirty_files=dirty,
        )
    unmerged = unmerged_commits(repo, branch, target_ref)
    if unmerged and not force:
        return outcome(
            False,
            f"{branch} has {len(unmerged)} commit(s) not in {target_branch}; kept "
            f"({'; '.join(unmerged[:5])})",
            unmerged_commits=unmerged,
        )
    out = run_git(["worktree", "remove", str(path)], cwd=repo, check=False)
    if not out.ok:
        return outcome(False, f"git refused to remove {path}: {out.stderr.strip()}")
    worktrees = list_worktrees(repo)
    if unmerged:
        return outcome(
            True,
            f"worktree removed (forced); {branch} kept with its unmerged commits",
            unmerged_commits=unmerged,
        )
    deleted, why = _delete_branch_if_merged(repo, branch, target_ref, worktrees)
    return outcome(True, f"worktree removed; {why}", branch_deleted=deleted)


def list_managed_worktrees(
    project_root: Path, worktrees_dir: Path, *, target_branch: str | None = None
) -> list[ManagedWorktree]:
    """Every worktree under ``worktrees_dir`` with its status, plus stray directories.

    ``unmerged`` is judged against ``target_branch`` (the project's default branch when None).
    """
    repo = require_repo(Path(project_root))
    target = target_branch or default_branch(repo)
    target_ref = (
        f"refs/heads/{target}" if target and commit_of(repo, f"refs/heads/{target}") else target
    )
    found: list[ManagedWorktree] = []
    seen: set[str] = set()
    for entry in list_worktrees(repo):
        if entry.is_main or not _inside(entry.path, worktrees_dir):
            continue
        seen.add(os.path.realpath(entry.path))
        base = {
            "path": entry.path,
            "branch": entry.branch,
            "head": entry.head,
            "locked": entry.locked,
        }
        if entry.prunable or not entry.path.exists():
            found.append(ManagedWorktree.model_validate({**base, "status": "missing"}))
            continue
        dirty = status_paths(entry.path)
        if dirty:
            found.append(
                ManagedWorktree.model_validate({**base, "status": "dirty", "dirty_files": dirty})
            )
            continue
        unmerged = (
            unmerged_commits(repo, entry.branch, target_ref) if entry.branch and target_ref else []
        )
        status: ManagedWorktreeStatus = "unmerged" if unmerged else "clean"
        found.append(
            ManagedWorktree.model_validate({**base, "status": status, "unmerged_commits": unmerged})
        )
    if worktrees_dir.is_dir():
        for child in sorted(worktrees_dir.iterdir()):
            if child.is_dir() and os.path.realpath(child) not in seen:
                found.append(
                    ManagedWorktree(path=child, branch=None, head=None, status="unregistered")
                )
    return sorted(found, key=lambda w: str(w.path))
