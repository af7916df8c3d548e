"""The managed worktree of one task: ``<scope>/worktrees/task-<id>`` on branch ``animus/<id>``.

:func:`ensure_worktree` is idempotent: called again after a crash (or on resume) it finds
the worktree it made and returns it with ``created=False``. It never touches a directory it
did not create: a path that exists but is not a worktree of this repository is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from animus_protocol.envelope import ConflictError, InvalidInputError
from animus_workflow_runner.git._repo import (
    RegisteredWorktree,
    commit_of,
    current_branch,
    default_branch,
    find_worktree,
    has_commits,
    list_worktrees,
    repo_root_problem,
    same_path,
)
from animus_workflow_runner.git._run import run_git
from animus_workflow_runner.naming import task_branch, task_worktree_path

__all__ = ["WorktreeInfo", "WorktreeMode", "ensure_worktree"]

WorktreeMode = Literal["auto", "required", "skip"]
_MODES: tuple[str, ...] = ("auto", "required", "skip")

# `git worktree add` locks a new worktree with this reason until its checkout finishes; a
# worktree still carrying it was interrupted mid-creation (the runner was killed).
_INITIALIZING = "initializing"


class WorktreeInfo(BaseModel):
    """Where a run executes and on which branch.

    ``mode_effective`` is ``worktree`` for a managed worktree and ``project_root`` when the
    run executes in the project root (mode ``skip``, or ``auto`` on a project that cannot host
    a worktree; ``reason`` says which).
    """

    model_config = ConfigDict(frozen=True)

    path: Path
    branch: str | None
    base_ref: str | None
    base_commit: str | None
    created: bool
    mode_effective: Literal["worktree", "project_root"]
    reason: str | None = None


def _project_root_info(root: Path, reason: str) -> WorktreeInfo:
    top = root if repo_root_problem(root) is None else None
    branch = current_branch(top) if top is not None else None
    head = commit_of(top, "HEAD") if top is not None else None
    return WorktreeInfo(
        path=root,
        branch=branch,
        base_ref=None,
        base_commit=head,
        created=False,
        mode_effective="project_root",
        reason=reason,
    )


def _resolve_base(repo: Path, base_ref: str | None) -> tuple[str, str]:
    if base_ref is not None:
        commit = commit_of(repo, base_ref)
        if commit is None:
            raise InvalidInputError(
                f"base_ref {base_ref!r} names no commit in {repo}",
                details={"base_ref": base_ref, "project_root": str(repo)},
                hint="set worktree.base_ref to an existing branch, tag or commit",
            )
        return base_ref, commit
    name = default_branch(repo) or "HEAD"
    commit = commit_of(repo, name)
    if commit is None:  # pragma: no cover - has_commits() was checked before
        raise InvalidInputError(f"cannot resolve the default branch of {repo}")
    return name, commit


def _fork_point(repo: Path, branch: str, base_commit: str) -> str:
    out = run_git(["merge-base", base_commit, f"refs/heads/{branch}"], cwd=repo, check=False)
    return out.stdout.strip() if out.ok and out.stdout.strip() else base_commit


def _drop_interrupted(repo: Path, entry: RegisteredWorktree) -> None:
    """Remove a worktree whose creation was interrupted (it only holds git's own checkout)."""
    run_git(["worktree", "remove", "--force", "--force", str(entry.path)], cwd=repo)


def ensure_worktree(
    project_root: Path,
    worktrees_dir: Path,
    subject_id: str,
    *,
    base_ref: str | None = None,
    mode: WorktreeMode = "auto",
) -> WorktreeInfo:
    """Create (or find again) the managed worktree of ``subject_id``.

    ``auto`` falls back to the project root, with a reason, when the project is not a git
    repository or has no commit yet; ``required`` raises instead; ``skip`` always uses the
    project root. A branch ``animus/<id>`` that already exists is reused as is; one checked
    out in another worktree is a :class:`ConflictError` naming that worktree.
    """
    if mode not in _MODES:
        raise InvalidInputError(
            f"unknown worktree mode {mode!r}; expected one of {', '.join(_MODES)}",
            details={"mode": mode},
        )
    project_root = Path(project_root)
    if not project_root.is_dir():
        raise InvalidInputError(
            f"project root does not exist or is not a directory: {project_root}",
            details={"project_root": str(project_root)},
        )
    if not subject_id or not subject_id.strip():
        raise InvalidInputError("subject id is empty; a worktree needs a subject")
    if mode == "skip":
        return _project_root_info(project_root, "worktree mode is skip")

    problem = repo_root_problem(project_root)
    repo = None if problem is not None else project_root
    if repo is not None and not has_commits(repo) and base_ref is None:
        problem = f"{repo} has no commits yet, so there is nothing to fork a branch from"
    if problem is not None:
        if mode == "required":
            raise InvalidInputError(
                f"worktree mode is required but {problem}",
                details={"project_root": str(project_root), "mode": mode},
                hint="initialise the repository and commit once, or set worktree.mode to auto",
            )
        return _project_root_info(project_root, f"running in the project root: {problem}")
    assert repo is not None

    branch = task_branch(subject_id)
    path = task_worktree_path(Path(worktrees_dir), subject_id)
    base_name, base_commit = _resolve_base(repo, base_ref)

    worktrees = list_worktrees(repo)
    if any(w.prunable for w in worktrees if same_path(w.path, path) or w.branch == branch):
        # Only registrations whose directory is gone are pruned (that is what prune does).
        run_git(["worktree", "prune"], cwd=repo)
        worktrees = list_worktrees(repo)

    mine = find_worktree(worktrees, path=path)
    if mine is not None and mine.locked == _INITIALIZING and mine.branch in (branch, None):
        _drop_interrupted(repo, mine)
        worktrees = list_worktrees(repo)
        mine = None
    if mine is not None:
        if mine.branch != branch:
            raise ConflictError(
                f"{path} is a worktree on {mine.branch or 'a detached HEAD'}, not on {branch}",
                details={"path": str(path), "found_branch": mine.branch, "branch": branch},
                hint=f"remove it with `git worktree remove {path}` once its work is saved",
            )
        return WorktreeInfo(
            path=path,
            branch=branch,
            base_ref=base_name,
            base_commit=_fork_point(repo, branch, base_commit),
            created=False,
            mode_effective="worktree",
        )

    elsewhere = find_worktree(worktrees, branch=branch)
    if elsewhere is not None:
        raise ConflictError(
            f"branch {branch} is already checked out in another worktree: {elsewhere.path}",
            details={"branch": branch, "checked_out_at": str(elsewhere.path)},
            hint=f"switch that worktree to another branch or remove it: "
            f"`git worktree remove {elsewhere.path}`",
        )
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ConflictError(
            f"{path} exists and is not a worktree of {repo}; refusing to touch it",
            details={"path": str(path), "project_root": str(repo)},
            hint="move that directory away; Animus only manages worktrees it created",
        )

    path.parent.mkdir(parents=True, exist_ok=True)
    if commit_of(repo, f"refs/heads/{branch}") is not None:
        run_git(["worktree", "add", str(path), branch], cwd=repo)
        fork = _fork_point(repo, branch, base_commit)
    else:
        run_git(["worktree", "add", "--no-track", "-b", branch, str(path), base_commit], cwd=repo)
        fork = base_commit
    return WorktreeInfo(
        path=path,
        branch=branch,
        base_ref=base_name,
        base_commit=fork,
        created=True,
        mode_effective="worktree",
    )
