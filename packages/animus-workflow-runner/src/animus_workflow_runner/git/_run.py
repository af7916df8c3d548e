"""A small typed wrapper around ``git``: one place for timeouts, environment and errors.

Every git call of the runner goes through :func:`run_git`, so each one runs with a bounded
timeout, never prompts (``GIT_TERMINAL_PROMPT=0``, no editor, no pager), speaks C locale
(stderr is parsed in a few places), and ignores ``GIT_DIR``-style variables inherited from a
hook that would redirect it to another repository. A failure raises :class:`GitError`
carrying the argv, exit status and stderr so a report can say exactly what git refused.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from animus_protocol.envelope import InternalError, InvalidInputError

__all__ = [
    "DEFAULT_TIMEOUT_SECS",
    "GitError",
    "GitOutput",
    "git_env",
    "identity_args",
    "identity_env",
    "run_git",
]

DEFAULT_TIMEOUT_SECS = 120.0

# Inherited from a git hook or a wrapper, these would silently point every command at
# another repository, index or work tree.
_REDIRECTING_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


class GitError(InternalError):
    """A git command failed; ``argv``, ``returncode`` and ``stderr`` say how."""

    default_code = "git_failed"

    def __init__(
        self,
        message: str,
        *,
        argv: Sequence[str],
        returncode: int | None,
        stderr: str,
        hint: str | None = None,
    ) -> None:
        super().__init__(
            message,
            details={"argv": list(argv), "returncode": returncode, "stderr": stderr.strip()},
            hint=hint,
        )
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class GitOutput:
    """What one git command printed and how it ended."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line]


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every git (and gh) command runs with."""
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING_VARS}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_EDITOR": "true",
            "GIT_SEQUENCE_EDITOR": "true",
            "GIT_PAGER": "cat",
            "PAGER": "cat",
            "LC_ALL": "C",
            "LANG": "C",
        }
    )
    if extra:
        env.update(extra)
    return env


def identity_args(name: str, email: str) -> list[str]:
    """``-c user.name=… -c user.email=…``: an identity for one command, no config written."""
    return ["-c", f"user.name={name}", "-c", f"user.email={email}"]


def identity_env(name: str, email: str, *, committer_only: bool = False) -> dict[str, str]:
    """The same identity as environment variables, which git ranks above ``user.*``.

    Passed alongside :func:`identity_args` so a ``GIT_AUTHOR_NAME`` inherited by the daemon
    cannot silently replace the identity a workflow configured. ``committer_only`` is for
    rewriting commands (rebase) that must keep each commit's original author.
    """
    env = {"GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    if not committer_only:
        env.update({"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email})
    return env


def run_git(
    args: Sequence[str],
    *,
    cwd: Path,
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT_SECS,
    config: Sequence[str] = (),
    read_only: bool = False,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
) -> GitOutput:
    """Run ``git [config…] args…`` in ``cwd``.

    ``read_only`` sets ``GIT_OPTIONAL_LOCKS=0`` so status-like commands never rewrite the
    index of a checkout they only look at (the operator's checkout must stay byte-identical).
    ``check`` raises :class:`GitError` on a non-zero exit; otherwise the caller inspects
    :attr:`GitOutput.returncode`.
    """
    argv = ["git", *config, *args]
    extra: dict[str, str] = dict(env or {})
    if read_only:
        extra["GIT_OPTIONAL_LOCKS"] = "0"
    if not cwd.is_dir():
        raise InvalidInputError(f"not a directory: {cwd}", details={"path": str(cwd), "argv": argv})
    try:
        # Its own session: on timeout the whole group dies, including children git spawned
        # (hooks, ssh, credential helpers) that would otherwise hold the pipes open.
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=git_env(extra),
            stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise GitError(
            "git is not installed or not on PATH",
            argv=argv,
            returncode=None,
            stderr=str(exc),
            hint="install git and make sure it is on PATH",
        ) from exc
    try:
        stdout, stderr = proc.communicate(input_text, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        raise GitError(
            f"git timed out after {timeout:g} s: {' '.join(argv)}",
            argv=argv,
            returncode=None,
            stderr=stderr or "",
        ) from exc
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    out = GitOutput(argv=argv, returncode=proc.returncode, stdout=stdout, stderr=stderr)
    if check and not out.ok:
        first = (stderr.strip().splitlines() or ["(no message)"])[-1]
        raise GitError(
            f"git {args[0] if args else ''} failed (exit {proc.returncode}): {first}",
            argv=argv,
            returncode=proc.returncode,
            stderr=stderr,
        )
    return out
