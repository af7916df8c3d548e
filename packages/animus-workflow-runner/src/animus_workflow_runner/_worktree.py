"""The run's execution directory (managed worktree or project root) and git identity."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from animus_workflow_runner.git import WorktreeMode, ensure_identity, ensure_worktree

if TYPE_CHECKING:
    from animus_workflow_runner.engine import WorkflowExecution

__all__ = ["ensure_execution_dir", "execution_dir", "git_identity", "managed_worktree"]


def ensure_execution_dir(ex: WorkflowExecution) -> None:
    """The managed worktree (or the project root), found again on every (re)start."""
    spec = ex.definition.workflow.get("worktree") or {}
    mode: WorktreeMode = spec.get("mode") or "auto"
    root = ex.hub.project_root
    if not ex.run.task_id:
        ex.state["worktree"] = {
            "path": str(root),
            "branch": None,
            "mode_effective": "project_root",
            "reason": "only task subjects get a managed worktree",
        }
        return
    info = ensure_worktree(
        root, ex.hub.paths.worktrees_dir, ex.run.task_id, base_ref=spec.get("base_ref"), mode=mode
    )
    ex.state["worktree"] = info.model_dump(mode="json")
    if info.created:
        ex.events.emit("worktree_created", ex.state["worktree"])
        with contextlib.suppress(Exception):
            ex.hub.tasks.update(
                ex.run.task_id,
                worktree_path=str(info.path),
                branch_name=info.branch,
                by=f"workflow {ex.run.id}",
            )


def execution_dir(ex: WorkflowExecution) -> Path:
    return Path(ex.state["worktree"]["path"])


def managed_worktree(ex: WorkflowExecution) -> bool:
    return bool(ex.state.get("worktree", {}).get("mode_effective") == "worktree")


def git_identity(ex: WorkflowExecution) -> Any:
    return ensure_identity(
        execution_dir(ex),
        ex.env.get("ANIMUS_GIT_AUTHOR_NAME") or None,
        ex.env.get("ANIMUS_GIT_AUTHOR_EMAIL") or None,
    )
