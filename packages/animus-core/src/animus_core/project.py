"""Project-root resolution: which repository an ``animus`` invocation is about.

Order: an explicit ``--project-root``; else the git *common* root of the working directory
(so every linked worktree of a repository resolves to the same project and scope); else the
working directory itself.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["ProjectRootError", "git_common_root", "resolve_project_root"]


class ProjectRootError(ValueError):
    """An explicit project root that cannot be used."""


def git_common_root(cwd: Path) -> Path | None:
    """The main working tree of the repository containing ``cwd``, or None outside git.

    ``git rev-parse --git-common-dir`` names the shared ``.git`` directory for the main
    checkout and every linked worktree; its parent is the main working tree. A bare
    repository has no working tree, so it yields None.
    """
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    common = Path(proc.stdout.strip())
    if common.name != ".git":
        return None
    return common.parent.resolve()


def resolve_project_root(explicit: str | os.PathLike[str] | None, cwd: Path | None = None) -> Path:
    """Resolve the project root per the precedence above (the result is canonical)."""
    if explicit is not None:
        root = Path(explicit).expanduser()
        if not root.exists():
            raise ProjectRootError(f"project root {str(root)!r} does not exist")
        if not root.is_dir():
            raise ProjectRootError(f"project root {str(root)!r} is not a directory")
        return root.resolve()
    here = (cwd or Path.cwd()).resolve()
    return git_common_root(here) or here
