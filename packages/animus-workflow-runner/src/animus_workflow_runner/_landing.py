"""``post_success``: merge the task branch (or push it and open a PR), then clean up.

Merge, push and PR are durable steps; each also has a natural idempotency check in the git
layer (target already contains the branch, PR already open), so a step interrupted after
its effect finds that effect instead of repeating it. A conflict or a blocked landing fails
the step (a resume retries it) and ends the run in ``merge-conflict`` with the files listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from animus_protocol.statuses import WorkflowMachineState
from animus_workflow_runner._worktree import git_identity
from animus_workflow_runner.git import cleanup_worktree, create_pr, merge_branch, push_branch

if TYPE_CHECKING:
    from animus_workflow_runner.engine import WorkflowExecution

__all__ = ["land"]

_PHASE = "post_success"


def _title(ex: WorkflowExecution) -> str:
    if ex.task is not None:
        return f"{ex.task.id}: {ex.task.title}"
    return f"{ex.run.subject.id or ex.run.id}: {ex.run.workflow_ref}"


def _step(ex: WorkflowExecution, ordinal: int, name: str) -> tuple[bool, Any]:
    record = ex.steps.begin(_PHASE, ordinal, 1, name)
    return record.committed, record.result


def land(ex: WorkflowExecution) -> dict[str, Any]:
    merge = (ex.definition.workflow.get("post_success") or {}).get("merge")
    worktree = ex.state.get("worktree") or {}
    if not merge or worktree.get("mode_effective") != "worktree":
        return {"action": "none"}
    root = ex.hub.project_root
    branch = str(worktree["branch"])
    target = str(merge.get("target_branch") or "main")
    base = int(ex.state["ordinal"])
    if merge.get("create_pr"):
        done, pushed = _step(ex, base, "push")
        if not done:
            pushed = push_branch(root, branch).model_dump(mode="json")
            ex.steps.effect_done("push")
            ex.steps.commit("push", base, pushed)
        done, pr = _step(ex, base + 1, "pr")
        if not done:
            body = f"Opened by Animus workflow run {ex.run.id} ({ex.run.workflow_ref})."
            opened = create_pr(
                root,
                branch,
                base=target,
                title=_title(ex),
                body=body,
                gh_bin=ex.env.get("ANIMUS_GH_BIN", "gh"),
            )
            pr = opened.model_dump(mode="json")
            ex.steps.effect_done("pr")
            if opened.status == "unavailable":
                ex.steps.fail(base + 1, pr)
                ex.finish_failed(f"could not open a pull request: {opened.reason}")
            ex.steps.commit("pr", base + 1, pr)
        ex.events.emit("pr_opened", {"push": pushed, "pr": pr})
        return {"action": "pr", "push": pushed, "pr": pr}

    done, merged = _step(ex, base, "merge")
    if not done:
        result = merge_branch(
            root,
            branch,
            target_branch=target,
            strategy=merge.get("strategy") or "merge",
            message=_title(ex),
            identity=git_identity(ex),
            worktrees_dir=ex.hub.paths.worktrees_dir,
        )
        merged = result.model_dump(mode="json")
        ex.steps.effect_done("merge")
        if result.status in ("conflict", "blocked_dirty_checkout"):
            ex.steps.fail(base, merged)
            files = list(result.conflicted_files)
            if result.status == "conflict":
                reason = (
                    f"merge conflict landing {branch} on {target}: "
                    f"{', '.join(files) or 'unknown files'}"
                )
                ex.events.emit(
                    "merge_conflict", {"files": files, "branch": branch, "target_branch": target}
                )
            else:
                reason = (
                    f"cannot land {branch} on {target}: {result.reason or ''} {result.hint or ''}"
                )
                ex.events.emit("merge_blocked", merged)
            ex.state["merge"] = merged
            ex.finish_failed(
                reason.strip(),
                machine=WorkflowMachineState.MERGE_CONFLICT,
                status_name="merge_conflict",
            )
        ex.steps.commit("merge", base, merged)
    ex.events.emit("merge_completed", merged)
    landed: dict[str, Any] = {"action": "merge", "merge": merged}
    spec = ex.definition.workflow.get("worktree") or {}
    if merge.get("cleanup_worktree", True) and spec.get("cleanup", True):
        cleaned = cleanup_worktree(
            root,
            worktree["path"],
            branch,
            target_branch=target,
            worktrees_dir=ex.hub.paths.worktrees_dir,
        )
        landed["cleanup"] = cleaned.model_dump(mode="json")
        ex.events.emit("worktree_cleanup", landed["cleanup"])
    return landed
