"""Read-only questions about a repository: where it is, its refs, its worktrees, its status.

Nothing here writes to a repository; every status-like call runs with optional locks off so
looking at the operator's checkout never rewrites its index.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from animus_protocol.envelope import InvalidInputError, NotFoundError
from animus_workflow_runner.git._run import run_git

_CONFLICT_MARKERS = (b"<<<<<<< ", b">>>>>>> ")

__all__ = [
    "RegisteredWorktree",
    "commit_of",
    "current_branch",
    "default_branch",
    "find_worktree",
    "git_toplevel",
    "has_commits",
    "is_ancestor",
    "list_worktrees",
    "merge_in_progress",
    "repo_root_problem",
    "require_repo",
    "same_path",
    "status_paths",
    "unmerged_paths",
    "unresolved_conflicts",
]


@dataclass(frozen=True)
class RegisteredWorktree:
    """One entry of ``git worktree list --porcelain``."""

    path: Path
    head: str | None
    branch: str | None  # short name (``main``), None when detached
    detached: bool
    bare: bool
    locked: str | None  # the lock reason ("" when locked without one), None when unlocked
    prunable: bool
    is_main: bool


def same_path(a: Path, b: Path) -> bool:
    """Whether two paths name the same place (symlinks such as /tmp → /private/tmp resolved)."""
    return os.path.realpath(a) == os.path.realpath(b)


def git_toplevel(path: Path) -> Path | None:
    """The working tree root containing ``path``, or None when it is not inside a repository."""
    if not path.is_dir():
        return None
    out = run_git(["rev-parse", "--show-toplevel"], cwd=path, check=False, read_only=True)
    if not out.ok or not out.stdout.strip():
        return None
    return Path(out.stdout.strip())


def repo_root_problem(path: Path) -> str | None:
    """Why ``path`` is not the top of a git working tree, or None when it is.

    A directory merely *inside* some repository does not count: a project that is not under
    git but sits in, say, a dotfiles repository at ``$HOME`` must never get worktrees,
    commits or merges in that enclosing repository.
    """
    if not path.is_dir():
        return f"{path} does not exist or is not a directory"
    top = git_toplevel(path)
    if top is None:
        return f"{path} is not a git repository"
    if not same_path(top, path):
        return f"{path} is not a git repository (it is inside the repository at {top})"
    return None


def require_repo(path: Path) -> Path:
    """``path`` itself when it is the top of a git working tree; a clear error otherwise."""
    problem = repo_root_problem(path)
    if problem is not None:
        raise InvalidInputError(
            problem,
            details={"path": str(path)},
            hint="point Animus at the repository's top-level directory, or run `git init` "
            "and make a first commit (or use worktree mode `skip`)",
        )
    return path


def has_commits(repo: Path) -> bool:
    out = run_git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=repo, check=False)
    return out.ok


def commit_of(repo: Path, ref: str) -> str | None:
    """The commit id ``ref`` names, or None when it names no commit."""
    if not ref or ref.startswith("-"):
        return None
    out = run_git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        cwd=repo,
        check=False,
        read_only=True,
    )
    return out.stdout.strip() if out.ok and out.stdout.strip() else None


def current_branch(repo: Path) -> str | None:
    """The branch checked out in ``repo``'s working tree, None when detached."""
    out = run_git(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd=repo, check=False)
    return out.stdout.strip() or None if out.ok else None


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    out = run_git(["merge-base", "--is-ancestor", ancestor, descendant], cwd=repo, check=False)
    if out.returncode not in (0, 1):
        raise NotFoundError(
            f"cannot compare {ancestor} and {descendant}: {out.stderr.strip()}",
            details={"ancestor": ancestor, "descendant": descendant},
        )
    return out.returncode == 0


def list_worktrees(repo: Path) -> list[RegisteredWorktree]:
    """Every worktree registered in ``repo`` (the main one first)."""
    out = run_git(["worktree", "list", "--porcelain"], cwd=repo, read_only=True)
    entries: list[RegisteredWorktree] = []
    block: dict[str, str] = {}

    def flush() -> None:
        if "worktree" not in block:
            return
        branch = block.get("branch")
        if branch is not None and branch.startswith("refs/heads/"):
            branch = branch[len("refs/heads/") :]
        entries.append(
            RegisteredWorktree(
                path=Path(block["worktree"]),
                head=block.get("HEAD"),
                branch=branch,
                detached="detached" in block,
                bare="bare" in block,
                locked=block.get("locked"),
                prunable="prunable" in block,
                is_main=not entries,
            )
        )

    for line in out.stdout.splitlines():
        if not line:
            flush()
            block = {}
            continue
        key, _, value = line.partition(" ")
        block[key] = value
    flush()
    return entries


def find_worktree(
    worktrees: list[RegisteredWorktree], *, path: Path | None = None, branch: str | None = None
) -> RegisteredWorktree | None:
    for entry in worktrees:
        if path is not None and same_path(entry.path, path):
            return entry
        if branch is not None and entry.branch == branch:
            return entry
    return None


def default_branch(repo: Path) -> str | None:
    """The project's default branch name.

    The remote's default (``origin/HEAD``) names it when the clone knows one; the local branch
    of that name is preferred because merges land there. Without a remote default, the branch
    checked out in the main working tree is the default. None when HEAD is detached and no
    remote names one.
    """
    out = run_git(
        ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"],
        cwd=repo,
        check=False,
        read_only=True,
    )
    if out.ok and out.stdout.strip():
        remote_ref = out.stdout.strip()  # e.g. origin/main
        name = remote_ref.split("/", 1)[1] if "/" in remote_ref else remote_ref
        if commit_of(repo, f"refs/heads/{name}") is not None:
            return name
        return remote_ref
    worktrees = list_worktrees(repo)
    main = worktrees[0] if worktrees else None
    if main is not None and main.branch:
        return main.branch
    return current_branch(repo)


def status_paths(worktree: Path, *, untracked: bool = True) -> list[str]:
    """Paths with uncommitted changes (staged, unstaged, conflicted, and untracked if asked).

    Ignored files are not changes. A rename reports its new path.
    """
    out = run_git(
        [
            "status",
            "--porcelain=v1",
            "-z",
            f"--untracked-files={'all' if untracked else 'no'}",
            "--ignore-submodules=none",
        ],
        cwd=worktree,
        read_only=True,
    )
    paths: list[str] = []
    fields = out.stdout.split("\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        paths.append(path)
        if "R" in code or "C" in code:
            i += 1  # the rename/copy source follows as its own field
    return sorted(dict.fromkeys(paths))


def merge_in_progress(worktree: Path) -> bool:
    """Whether ``worktree`` is in the middle of a merge (``MERGE_HEAD`` exists)."""
    return commit_of(Path(worktree), "MERGE_HEAD") is not None


def unmerged_paths(worktree: Path) -> list[str]:
    out = run_git(["diff", "--name-only", "-z", "--diff-filter=U"], cwd=worktree, read_only=True)
    return sorted(p for p in out.stdout.split("\0") if p)


def unresolved_conflicts(worktree: Path) -> list[str]:
    """Files of an in-progress merge still unmerged in the index or holding conflict markers."""
    worktree = Path(worktree)
    if not merge_in_progress(worktree):
        return []
    found = set(unmerged_paths(worktree))
    for rel in status_paths(worktree):
        path = worktree / rel
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as fh:
            if any(line.startswith(_CONFLICT_MARKERS) for line in fh):
                found.add(rel)
    return sorted(found)
