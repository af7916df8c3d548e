"""Repository scope: the name of a project's runtime directory under ``ANIMUS_HOME``.

``<sanitized basename>-<12 hex of sha256(canonical root)>``, so two clones with the same
name never share state, and linked worktrees (which resolve to the same common root) do.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["canonical_root", "repo_scope", "sanitize_repo_name"]

_SEPARATORS = frozenset(" _-")


def sanitize_repo_name(name: str) -> str:
    """Lower-case ASCII alphanumerics; runs of space, ``_`` and ``-`` become one ``-``.

    Every other character is dropped; separators never lead or trail; empty becomes ``repo``.
    """
    out: list[str] = []
    pending_sep = False
    for ch in name:
        if ch.isascii() and ch.isalnum():
            if pending_sep and out:
                out.append("-")
            pending_sep = False
            out.append(ch.lower())
        elif ch in _SEPARATORS:
            pending_sep = True
    return "".join(out) or "repo"


def canonical_root(path: str | os.PathLike[str]) -> Path:
    """The absolute path with symlinks resolved (the form that is hashed)."""
    return Path(path).expanduser().resolve()


def repo_scope(root: str | os.PathLike[str]) -> str:
    """Scope directory name for a project root (canonicalized first)."""
    canon = canonical_root(root)
    digest = hashlib.sha256(str(canon).encode("utf-8")).hexdigest()[:12]
    return f"{sanitize_repo_name(canon.name)}-{digest}"
