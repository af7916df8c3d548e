"""Git for the workflow runner: task worktrees, commits, merges, pull requests, cleanup.

Every function is naturally idempotent (a retry after a crash finds its earlier effect and
reports it instead of repeating it) and never changes the operator's checkout: merges are
computed in a scratch worktree and land by compare-and-swap; cleanup refuses to delete work
that is uncommitted or not merged.
"""

from __future__ import annotations

from animus_workflow_runner.git._run import GitError
from animus_workflow_runner.git.cleanup import (
    CleanupResult,
    ManagedWorktree,
    ManagedWorktreeStatus,
    cleanup_worktree,
    list_managed_worktrees,
    unmerged_commits,
)
from animus_workflow_runner.git.commit import (
    DEFAULT_IDENTITY,
    CommitResult,
    GitIdentity,
    commit_changes,
    ensure_identity,
    pending_changes,
)
from animus_workflow_runner.git.merge import (
    BRANCH_TRAILER,
    HEAD_TRAILER,
    MergeResult,
    MergeStatus,
    MergeStrategy,
    merge_branch,
)
from animus_workflow_runner.git.pr import PrResult, PushResult, create_pr, push_branch
from animus_workflow_runner.git.resolve import (
    ResolutionStart,
    merge_in_progress,
    start_conflict_resolution,
    unresolved_conflicts,
)
from animus_workflow_runner.git.worktree import WorktreeInfo, WorktreeMode, ensure_worktree

__all__ = [
    "BRANCH_TRAILER",
    "DEFAULT_IDENTITY",
    "HEAD_TRAILER",
    "CleanupResult",
    "CommitResult",
    "GitError",
    "GitIdentity",
    "ManagedWorktree",
    "ManagedWorktreeStatus",
    "MergeResult",
    "MergeStatus",
    "MergeStrategy",
    "PrResult",
    "PushResult",
    "ResolutionStart",
    "WorktreeInfo",
    "WorktreeMode",
    "cleanup_worktree",
    "commit_changes",
    "create_pr",
    "ensure_identity",
    "ensure_worktree",
    "list_managed_worktrees",
    "merge_branch",
    "merge_in_progress",
    "pending_changes",
    "push_branch",
    "start_conflict_resolution",
    "unmerged_commits",
    "unresolved_conflicts",
]
