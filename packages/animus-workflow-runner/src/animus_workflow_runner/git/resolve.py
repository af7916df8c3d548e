"""Setting up a merge-conflict resolution phase in the task worktree.

When landing conflicts, the workflow may route to a resolution phase: the target branch is
merged *into the task branch* inside the task worktree, leaving git's conflict markers for
the agent to resolve. The phase then ends with :func:`~.commit.commit_changes`, which
concludes the merge and refuses while conflict markers remain; the next landing attempt
then merges cleanly. Calling :func:`start_conflict_resolution` again while the merge is in
progress reports it instead of starting over (a resumed run keeps the agent's work).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_workflow_runner.git._repo import (
    commit_of,
    is_ancestor,
    merge_in_progress,
    repo_root_problem,
    status_paths,
    unmerged_paths,
    unresolved_conflicts,
)
from animus_workflow_runner.git._run import GitError, identity_args, identity_env, run_git
from animus_workflow_runner.git.commit import GitIdentity

__all__ = [
    "ResolutionStart",
    "merge_in_progress",
    "start_conflict_resolution",
    "unresolved_conflicts",
]

_NO_HOOKS = ["-c", f"core.hooksPath={os.devnull}"]


class ResolutionStart(BaseModel):
    """``conflicts``: markers are in place for the agent (``conflicted_files``);
    ``in_progress``: an earlier call started it and it is not committed yet;
    ``merged_cleanly``: the target merged without conflict (``commit``);
    ``up_to_date``: the task branch already contains the target."""

    model_config = ConfigDict(frozen=True)

    status: Literal["conflicts", "in_progress", "merged_cleanly", "up_to_date"]
    conflicted_files: list[str] = []
    commit: str | None = None


def start_conflict_resolution(
    worktree: Path,
    target_branch: str,
    *,
    identity: GitIdentity,
    message: str | None = None,
) -> ResolutionStart:
    """Merge ``target_branch`` into the task branch checked out in ``worktree``."""
    worktree = Path(worktree)
    problem = repo_root_problem(worktree)
    if problem is not None:
        raise InvalidInputError(
            f"not a git working tree: {problem}", details={"path": str(worktree)}
        )
    target = target_branch.removeprefix("refs/heads/")
    target_tip = commit_of(worktree, f"refs/heads/{target}")
    if target_tip is None:
        raise NotFoundError(
            f"target branch {target} does not exist", details={"target_branch": target}
        )
    if merge_in_progress(worktree):
        return ResolutionStart(
            status="in_progress", conflicted_files=unresolved_conflicts(worktree)
        )
    if is_ancestor(worktree, target_tip, "HEAD"):
        return ResolutionStart(status="up_to_date", commit=commit_of(worktree, "HEAD"))
    pending = status_paths(worktree)
    if pending:
        raise ConflictError(
            f"{worktree} has uncommitted changes ({', '.join(pending[:10])}); "
            "commit them before merging the target in",
            details={"path": str(worktree), "files": pending},
        )
    out = run_git(
        [
            *_NO_HOOKS,
            "merge",
            "--no-ff",
            "--no-edit",
            "-m",
            message or f"Merge {target} into task branch",
            target_tip,
        ],
        cwd=worktree,
        config=identity_args(identity.name, identity.email),
        env=identity_env(identity.name, identity.email),
        check=False,
    )
    if out.ok:
        return ResolutionStart(status="merged_cleanly", commit=commit_of(worktree, "HEAD"))
    conflicted = unmerged_paths(worktree)
    if not conflicted:
        run_git(["merge", "--abort"], cwd=worktree, check=False)
        raise GitError(
            f"merging {target} into the task branch failed without a conflict",
            argv=out.argv,
            returncode=out.returncode,
            stderr=out.stderr,
        )
    return ResolutionStart(status="conflicts", conflicted_files=conflicted)
