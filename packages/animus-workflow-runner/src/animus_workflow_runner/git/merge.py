"""Landing a task branch on its target branch without touching the operator's checkout.

The merge is computed in a temporary detached worktree (``.merge-<branch>`` under the scope's
worktrees dir), never in a checkout someone works in. The target branch is then advanced by a
compare-and-swap: ``git update-ref <ref> <new> <old>`` when no worktree has it checked out,
or ``git merge --ff-only`` inside the checkout that has it when that checkout is clean. A
checkout with uncommitted changes to tracked files is never touched: the result is
``blocked_dirty_checkout`` with the command the operator can run.

Natural idempotency: a target that already contains the branch tip (merge), a commit whose
``Animus-Head`` trailer names the tip (squash), or a rebase that leaves nothing to apply
(rebase) means ``already_merged`` and no new commit.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_workflow_runner.git._repo import (
    RegisteredWorktree,
    commit_of,
    find_worktree,
    is_ancestor,
    list_worktrees,
    require_repo,
    status_paths,
)
from animus_workflow_runner.git._run import GitError, identity_args, identity_env, run_git
from animus_workflow_runner.git.commit import GitIdentity, ensure_identity
from animus_workflow_runner.naming import sanitize_ref_component

__all__ = [
    "BRANCH_TRAILER",
    "HEAD_TRAILER",
    "MergeResult",
    "MergeStatus",
    "MergeStrategy",
    "merge_branch",
    "squash_commit_for",
]

MergeStrategy = Literal["merge", "squash", "rebase"]
MergeStatus = Literal["merged", "already_merged", "conflict", "blocked_dirty_checkout"]
_STRATEGIES: tuple[str, ...] = ("merge", "squash", "rebase")

BRANCH_TRAILER = "Animus-Branch"
HEAD_TRAILER = "Animus-Head"

# Hooks are the operator's tooling for their own checkouts; the scratch worktree is internal
# machinery and must not run them (a post-checkout hook could take minutes or prompt).
_NO_HOOKS = ["-c", f"core.hooksPath={os.devnull}"]
_MAX_ATTEMPTS = 3


class MergeResult(BaseModel):
    """How a merge ended.

    ``commit`` is the target's new tip (merged), its current tip (already_merged) or None.
    ``checkout_updated`` names the checkout whose working tree was fast-forwarded, if any.
    """

    model_config = ConfigDict(frozen=True)

    status: MergeStatus
    commit: str | None
    conflicted_files: list[str] = []
    target_branch: str
    strategy: MergeStrategy
    branch: str
    branch_head: str
    reason: str | None = None
    hint: str | None = None
    checkout_updated: Path | None = None


def _short_branch(name: str) -> str:
    return name[len("refs/heads/") :] if name.startswith("refs/heads/") else name


def squash_commit_for(repo: Path, target: str, branch_head: str) -> str | None:
    """The commit on ``target`` that squashed ``branch_head`` (found by its trailer), if any."""
    out = run_git(
        [
            "log",
            "--format=%H",
            "--fixed-strings",
            f"--grep={HEAD_TRAILER}: {branch_head}",
            "-n",
            "1",
            target,
            "--",
        ],
        cwd=repo,
        read_only=True,
    )
    found = out.stdout.strip()
    return found or None


def _already_merged(repo: Path, strategy: str, target: str, tip: str, target_tip: str) -> bool:
    if is_ancestor(repo, tip, target_tip):
        return True
    return strategy == "squash" and squash_commit_for(repo, target, tip) is not None


@contextlib.contextmanager
def _scratch_worktree(
    repo: Path, scratch_root: Path | None, branch: str, start: str
) -> Iterator[Path]:
    """A detached worktree at ``start`` that is removed again however the block ends."""
    made_root = scratch_root is None
    root = Path(tempfile.mkdtemp(prefix="animus-merge-")) if scratch_root is None else scratch_root
    path = _scratch_path(root, branch)
    _discard_scratch(repo, path)
    root.mkdir(parents=True, exist_ok=True)
    run_git([*_NO_HOOKS, "worktree", "add", "--detach", str(path), start], cwd=repo)
    try:
        yield path
    finally:
        run_git(["worktree", "remove", "--force", "--force", str(path)], cwd=repo, check=False)
        if made_root:
            with contextlib.suppress(OSError):
                root.rmdir()


def _scratch_path(root: Path, branch: str) -> Path:
    return root / f".merge-{sanitize_ref_component(branch)}"


def _discard_scratch(repo: Path, path: Path) -> None:
    """Remove a scratch worktree left by an interrupted merge (it holds no one's work)."""
    entry = find_worktree(list_worktrees(repo), path=path)
    if entry is not None:
        run_git(["worktree", "remove", "--force", "--force", str(path)], cwd=repo)
        return
    if path.exists():
        raise ConflictError(
            f"{path} exists but is not a worktree of {repo}; refusing to remove it",
            details={"path": str(path)},
            hint="move that directory away and retry the merge",
        )


def _conflicted(worktree: Path) -> list[str]:
    out = run_git(["diff", "--name-only", "-z", "--diff-filter=U"], cwd=worktree, read_only=True)
    return sorted(p for p in out.stdout.split("\0") if p)


def _message(message: str | None, strategy: str, branch: str, target: str) -> str:
    if message and message.strip():
        return message
    verb = "Squash" if strategy == "squash" else "Merge"
    return f"{verb} {branch} into {target}"


def _build(
    worktree: Path,
    *,
    strategy: str,
    branch: str,
    tip: str,
    target_tip: str,
    message: str,
    identity: GitIdentity,
) -> tuple[str | None, list[str]]:
    """Compute the merged commit in ``worktree``: (new tip, []) or (None, conflicted files)."""
    who = identity_args(identity.name, identity.email)
    if strategy == "merge":
        out = run_git(
            [*_NO_HOOKS, "merge", "--no-ff", "--no-edit", "-m", message, tip],
            cwd=worktree,
            config=who,
            env=identity_env(identity.name, identity.email),
            check=False,
        )
        abort = ["merge", "--abort"]
    elif strategy == "squash":
        out = run_git([*_NO_HOOKS, "merge", "--squash", tip], cwd=worktree, config=who, check=False)
        abort = ["reset", "--hard", "--quiet", target_tip]  # a squash has no MERGE_HEAD
    else:
        out = run_git(
            [*_NO_HOOKS, "rebase", "--no-verify", target_tip],
            cwd=worktree,
            config=who,
            env=identity_env(identity.name, identity.email, committer_only=True),
            check=False,
        )
        abort = ["rebase", "--abort"]
    if not out.ok:
        files = _conflicted(worktree)
        if not files:
            raise GitError(
                f"{strategy} of {branch} failed without a conflict: "
                f"{(out.stderr.strip().splitlines() or ['(no message)'])[-1]}",
                argv=out.argv,
                returncode=out.returncode,
                stderr=out.stderr,
            )
        run_git(abort, cwd=worktree, check=False)
        return None, files
    if strategy == "squash":
        staged = run_git(["diff", "--cached", "--quiet"], cwd=worktree, check=False)
        if staged.ok:
            return target_tip, []  # the target already holds every change of the branch
        body = f"{message.rstrip()}\n\n{BRANCH_TRAILER}: {branch}\n{HEAD_TRAILER}: {tip}\n"
        run_git(
            [*_NO_HOOKS, "commit", "--quiet", "--no-verify", "--cleanup=whitespace", "-F", "-"],
            cwd=worktree,
            config=who,
            env=identity_env(identity.name, identity.email),
            input_text=body,
        )
    new = commit_of(worktree, "HEAD")
    assert new is not None
    return new, []


def _advance_target(
    repo: Path, target: str, new: str, old: str, checkout: RegisteredWorktree | None
) -> tuple[bool, str | None]:
    """Move ``target`` from ``old`` to ``new``: (True, None), (False, None) when it moved
    under us, or (False, reason) when the checkout holding it refused the fast-forward."""
    if checkout is None:
        out = run_git(
            ["update-ref", "-m", f"animus: land {new[:12]}", f"refs/heads/{target}", new, old],
            cwd=repo,
            check=False,
        )
        return out.ok, None
    if commit_of(checkout.path, "HEAD") != old:
        return False, None
    out = run_git(["merge", "--ff-only", "--quiet", new], cwd=checkout.path, check=False)
    if out.ok:
        return True, None
    if commit_of(checkout.path, "HEAD") != old:
        return False, None
    return False, out.stderr.strip() or f"git merge --ff-only exited {out.returncode}"


def _paths_in_the_way(checkout: Path, old: str, new: str) -> list[str]:
    """Files the fast-forward would create that already exist, untracked or ignored.

    Git would refuse to overwrite an untracked file, but it silently overwrites an ignored
    one (a local ``.env``); either way the operator's file is theirs, so both block.
    """
    out = run_git(
        ["diff", "--name-only", "-z", "--no-renames", "--diff-filter=A", old, new],
        cwd=checkout,
        read_only=True,
    )
    return sorted(p for p in out.stdout.split("\0") if p and os.path.lexists(checkout / p))


def _land_yourself(path: Path, new: str) -> str:
    # The prepared commit exists (unreferenced) in the object store, so the operator can
    # land exactly what Animus computed once their checkout allows it.
    return f"git -C {path} merge --ff-only {new}"


def merge_branch(
    project_root: Path,
    branch: str,
    *,
    target_branch: str = "main",
    strategy: MergeStrategy = "merge",
    message: str | None = None,
    identity: GitIdentity | None = None,
    worktrees_dir: Path | None = None,
    max_attempts: int = _MAX_ATTEMPTS,
) -> MergeResult:
    """Land ``branch`` on ``target_branch`` with ``strategy``; see the module docstring.

    ``worktrees_dir`` hosts the scratch worktree (the scope's worktrees dir; a fresh temporary
    directory when None). When the target moves while merging, the merge is recomputed on
    the new tip up to ``max_attempts`` times, then a :class:`ConflictError` is raised; the
    operator's commit is never lost either way.
    """
    if strategy not in _STRATEGIES:
        raise InvalidInputError(
            f"unknown merge strategy {strategy!r}; expected one of {', '.join(_STRATEGIES)}",
            details={"strategy": strategy},
        )
    if max_attempts < 1:
        raise InvalidInputError("max_attempts must be at least 1")
    repo = require_repo(Path(project_root))
    branch = _short_branch(branch)
    target = _short_branch(target_branch)
    if branch == target:
        raise InvalidInputError(f"cannot merge {branch} into itself")
    tip = commit_of(repo, f"refs/heads/{branch}")
    if tip is None:
        raise NotFoundError(f"branch {branch} does not exist in {repo}", details={"branch": branch})
    who = identity or ensure_identity(repo)
    text = _message(message, strategy, branch, target)

    def result(status: MergeStatus, commit: str | None, **extra: object) -> MergeResult:
        return MergeResult.model_validate(
            {
                "status": status,
                "commit": commit,
                "target_branch": target,
                "strategy": strategy,
                "branch": branch,
                "branch_head": tip,
                **extra,
            }
        )

    if worktrees_dir is not None:
        # A merge killed mid-way leaves its scratch worktree; the retry clears it first, even
        # when it then finds the merge already landed.
        _discard_scratch(repo, _scratch_path(worktrees_dir, branch))
    for _attempt in range(max_attempts):
        old = commit_of(repo, f"refs/heads/{target}")
        if old is None:
            raise NotFoundError(
                f"target branch {target} does not exist in {repo}",
                details={"target_branch": target},
                hint="set post_success.merge.target_branch to an existing branch",
            )
        if _already_merged(repo, strategy, target, tip, old):
            return result("already_merged", old, reason=f"{target} already contains {branch}")
        start = tip if strategy == "rebase" else old
        with _scratch_worktree(repo, worktrees_dir, branch, start) as scratch:
            new, conflicted = _build(
                scratch,
                strategy=strategy,
                branch=branch,
                tip=tip,
                target_tip=old,
                message=text,
                identity=who,
            )
        if new is None:
            return result(
                "conflict",
                None,
                conflicted_files=conflicted,
                reason=f"{strategy} of {branch} into {target} conflicts in "
                f"{len(conflicted)} file(s): {', '.join(conflicted)}",
                hint=f"resolve by merging {target} into {branch} in the task worktree",
            )
        if new == old:
            return result("already_merged", old, reason=f"{target} already holds every change")
        checkout = find_worktree(list_worktrees(repo), branch=target)
        if checkout is not None:
            in_the_way = status_paths(checkout.path, untracked=False) or _paths_in_the_way(
                checkout.path, old, new
            )
            if in_the_way:
                return result(
                    "blocked_dirty_checkout",
                    None,
                    reason=f"{target} is checked out at {checkout.path} with uncommitted "
                    f"changes or files in the way ({', '.join(in_the_way[:10])}); "
                    "it was left untouched",
                    hint="commit or stash those changes and retry, or land the prepared "
                    f"commit yourself: {_land_yourself(checkout.path, new)}",
                )
        moved, refusal = _advance_target(repo, target, new, old, checkout)
        if moved:
            return result(
                "merged", new, checkout_updated=checkout.path if checkout is not None else None
            )
        if refusal is not None:
            assert checkout is not None
            return result(
                "blocked_dirty_checkout",
                None,
                reason=f"the checkout of {target} at {checkout.path} refused the "
                f"fast-forward: {refusal}",
                hint="move the files it names away and retry, or land the prepared commit "
                f"yourself: {_land_yourself(checkout.path, new)}",
            )
    raise ConflictError(
        f"{target} kept moving while {branch} was merged ({max_attempts} attempts); "
        "nothing was changed",
        details={"target_branch": target, "branch": branch, "attempts": max_attempts},
        hint="retry the merge when the target branch is quiet",
    )
