"""Names of the git objects a run owns: its branch and its managed worktree.

A subject id is arbitrary text (``TASK-012``, ``linear:ENG-7``); git refs and directory
names are not. Sanitizing keeps ``[A-Za-z0-9._-]``, turns every other run of characters
into one ``-``, and never yields a component git rejects (leading ``.``/``-``, ``..``,
a trailing ``.lock`` or ``.``). When sanitizing changed the id, six hex digits of its
sha256 are appended, so two ids that differ only in unsafe characters (``a:b``, ``a-b``)
never share a branch or a worktree.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

__all__ = ["BRANCH_PREFIX", "sanitize_ref_component", "task_branch", "task_worktree_path"]

BRANCH_PREFIX = "animus/"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")


def sanitize_ref_component(subject_id: str) -> str:
    """A single path/ref component derived from ``subject_id``; never empty."""
    text = _UNSAFE.sub("-", subject_id.strip())
    text = _DOTS.sub(".", text)
    text = text.strip(".-")
    while text.endswith(".lock"):
        text = text[: -len(".lock")].rstrip(".-")
    text = text or "subject"
    if text != subject_id:
        digest = hashlib.sha256(subject_id.encode("utf-8")).hexdigest()[:6]
        text = f"{text}-{digest}"
    return text


def task_branch(subject_id: str) -> str:
    """The branch a run for ``subject_id`` commits to: ``animus/<sanitized id>``."""
    return BRANCH_PREFIX + sanitize_ref_component(subject_id)


def task_worktree_path(worktrees_dir: Path, subject_id: str) -> Path:
    """The managed worktree: ``<scope>/worktrees/task-<sanitized id>``."""
    return worktrees_dir / f"task-{sanitize_ref_component(subject_id)}"
