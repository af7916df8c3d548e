"""Commits in a task worktree, with an identity given per command.

The identity travels as ``-c user.name=… -c user.email=…`` on the one ``git commit`` that
needs it, so the operator's global and repository config are never written.
:func:`commit_changes` is naturally idempotent: a retry after a crash finds nothing left to
commit and reports the existing HEAD instead of making a second commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from animus_protocol.envelope import ConflictError, InvalidInputError
from animus_workflow_runner.git._repo import (
    commit_of,
    repo_root_problem,
    status_paths,
    unresolved_conflicts,
)
from animus_workflow_runner.git._run import identity_args, identity_env, run_git

__all__ = [
    "DEFAULT_IDENTITY",
    "CommitResult",
    "GitIdentity",
    "commit_changes",
    "ensure_identity",
    "pending_changes",
]


class GitIdentity(BaseModel):
    """Author and committer of the commits a run makes."""

    model_config = ConfigDict(frozen=True)

    name: str
    email: str


DEFAULT_IDENTITY = GitIdentity(name="Animus", email="animus@localhost")


class CommitResult(BaseModel):
    """``committed`` is False when there was nothing to commit; ``commit`` is then HEAD."""

    model_config = ConfigDict(frozen=True)

    committed: bool
    commit: str | None
    files: list[str]


def _check_identity_part(label: str, value: str) -> str:
    text = value.strip()
    if not text or any(c in text for c in "<>\n\r\0"):
        raise InvalidInputError(
            f"invalid git {label} {value!r}: it must be non-empty, one line, without < or >",
            details={label: value},
        )
    return text


def _configured(repo: Path, key: str) -> str | None:
    out = run_git(["config", "--get", key], cwd=repo, check=False, read_only=True)
    return out.stdout.strip() or None if out.ok else None


def ensure_identity(repo: Path, name: str | None = None, email: str | None = None) -> GitIdentity:
    """The identity commits in ``repo`` will carry; nothing is written to any config.

    An explicit ``name``/``email`` wins; a missing part comes from the repository's effective
    config (the operator's own identity), then from :data:`DEFAULT_IDENTITY`.
    """
    repo = Path(repo)
    if not repo.is_dir():
        raise InvalidInputError(f"not a directory: {repo}", details={"path": str(repo)})
    if name is None:
        name = _configured(repo, "user.name") or DEFAULT_IDENTITY.name
    if email is None:
        email = _configured(repo, "user.email") or DEFAULT_IDENTITY.email
    return GitIdentity(
        name=_check_identity_part("user.name", name),
        email=_check_identity_part("user.email", email),
    )


def _require_worktree(worktree: Path) -> Path:
    worktree = Path(worktree)
    problem = repo_root_problem(worktree)
    if problem is not None:
        raise InvalidInputError(
            f"not a git working tree: {problem}",
            details={"path": str(worktree)},
            hint="commits need a git worktree; was the worktree mode `skip` on a non-git project?",
        )
    return worktree


def pending_changes(worktree: Path) -> list[str]:
    """Paths with uncommitted changes, untracked files included, ignored files excluded."""
    return status_paths(_require_worktree(worktree))


def _committed_files(worktree: Path, commit: str) -> list[str]:
    """Files the commit changed against its first parent (everything for a root commit)."""
    if commit_of(worktree, f"{commit}^1") is not None:
        args = ["diff", "--name-only", "-z", "--no-renames", f"{commit}^1", commit]
    else:
        args = ["diff-tree", "--root", "--no-commit-id", "--name-only", "-r", "-z", commit]
    out = run_git(args, cwd=worktree, read_only=True)
    return sorted(p for p in out.stdout.split("\0") if p)


def _with_trailers(message: str, trailers: Mapping[str, str] | None) -> str:
    if not trailers:
        return message
    lines = "\n".join(f"{k}: {v}" for k, v in trailers.items())
    return f"{message.rstrip()}\n\n{lines}\n"


def commit_changes(
    worktree: Path,
    message: str,
    *,
    identity: GitIdentity,
    allow_empty: bool = False,
    trailers: Mapping[str, str] | None = None,
    run_hooks: bool = False,
) -> CommitResult:
    """Stage everything (``.gitignore`` respected) and commit it with ``message``.

    No changes → ``committed=False`` with ``commit`` = HEAD (None on an unborn branch), unless
    ``allow_empty``. In a worktree that is mid-merge (a conflict-resolution phase) the commit
    concludes the merge, and is refused with :class:`ConflictError` while conflict markers
    remain. Hooks are skipped by default: the runner's commits are bookkeeping of
    work already checked by the workflow's own phases, and a hook that prompts or needs a
    tool missing from the daemon's environment would wedge the run.
    """
    worktree = _require_worktree(worktree)
    if not message or not message.strip():
        raise InvalidInputError("commit message is empty", hint="give the phase a commit_message")
    concluding_merge = commit_of(worktree, "MERGE_HEAD") is not None
    if concluding_merge:
        left = unresolved_conflicts(worktree)
        if left:
            raise ConflictError(
                f"unresolved merge conflicts remain in {', '.join(left)}",
                details={"path": str(worktree), "files": left},
                hint="resolve every conflict (no <<<<<<< or >>>>>>> lines) before committing",
            )
    changed = status_paths(worktree)
    if not changed and not allow_empty and not concluding_merge:
        return CommitResult(committed=False, commit=commit_of(worktree, "HEAD"), files=[])
    run_git(["add", "--all", "--", "."], cwd=worktree)
    args = ["commit", "--quiet", "--file", "-", "--cleanup=whitespace"]
    if allow_empty:
        args.append("--allow-empty")
    if not run_hooks:
        args.append("--no-verify")
    run_git(
        args,
        cwd=worktree,
        config=identity_args(identity.name, identity.email),
        env=identity_env(identity.name, identity.email),
        input_text=_with_trailers(message, trailers),
    )
    head = commit_of(worktree, "HEAD")
    assert head is not None
    return CommitResult(committed=True, commit=head, files=_committed_files(worktree, head))
