"""Helpers for tests that drive real git repositories (this package's and its callers').

Tests never read or write the operator's git config: :func:`isolated_git_environment` gives
the variables that point git at no global/system config and fix an identity for the commits
a test makes itself.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "TEST_IDENTITY_EMAIL",
    "TEST_IDENTITY_NAME",
    "checkout_snapshot",
    "commit_file",
    "git",
    "init_repo",
    "isolated_git_environment",
]

TEST_IDENTITY_NAME = "Test Operator"
TEST_IDENTITY_EMAIL = "operator@example.test"


def isolated_git_environment(ceiling: Path | None = None) -> dict[str, str]:
    """Environment variables that isolate git from the machine's config.

    ``ceiling`` (usually pytest's ``tmp_path``) stops git from discovering a repository
    above it: a temporary directory can itself sit inside a checkout (nox puts ``TMPDIR``
    under the workspace), and a "plain directory" must not turn out to be inside one.
    """
    env = {
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": TEST_IDENTITY_NAME,
        "GIT_AUTHOR_EMAIL": TEST_IDENTITY_EMAIL,
        "GIT_COMMITTER_NAME": TEST_IDENTITY_NAME,
        "GIT_COMMITTER_EMAIL": TEST_IDENTITY_EMAIL,
        "GIT_TERMINAL_PROMPT": "0",
    }
    if ceiling is not None:
        env["GIT_CEILING_DIRECTORIES"] = os.path.realpath(ceiling)
    return env


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git in ``cwd`` (raising on failure) and return its stripped stdout."""
    full = {**os.environ, **isolated_git_environment(), **(env or {})}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=full, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def commit_file(repo: Path, name: str, content: str, message: str | None = None) -> str:
    """Write ``name`` with ``content``, commit it, and return the new commit id."""
    target = repo / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    git(repo, "add", "--", name)
    git(repo, "commit", "--quiet", "-m", message or f"write {name}")
    return git(repo, "rev-parse", "HEAD")


def init_repo(path: Path, *, branch: str = "main", files: Mapping[str, str] | None = None) -> Path:
    """A new repository at ``path`` on ``branch`` with one commit of ``files``."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "-b", branch)
    for name, content in (files or {"README.md": "hello\n"}).items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(content)
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "initial commit")
    return path


def checkout_snapshot(root: Path) -> dict[str, str]:
    """A byte-level fingerprint of a checkout: HEAD, index, refs, and every file on disk.

    Two equal snapshots mean nothing in the checkout changed: not its HEAD, not its index
    (byte for byte), not a tracked, untracked or ignored file.
    """
    snap: dict[str, str] = {}
    gitdir = root / ".git"
    for name in ("HEAD", "index", "MERGE_HEAD", "ORIG_HEAD"):
        f = gitdir / name
        snap[f".git/{name}"] = hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else "-"
    snap["refs"] = git(root, "for-each-ref", "--format=%(refname) %(objectname)")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not (Path(dirpath) == root and d == ".git")]
        for name in filenames:
            f = Path(dirpath) / name
            rel = f.relative_to(root).as_posix()
            snap[rel] = f"{oct(f.stat().st_mode)} {hashlib.sha256(f.read_bytes()).hexdigest()}"
    return snap
