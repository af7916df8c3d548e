"""The scoped runtime root ``$ANIMUS_HOME/<repo-scope>/`` and its ownership markers.

On first creation the root gets ``.project-root`` (the canonical project path) and
``.git-origin`` (``git remote get-url origin``, empty when there is none). When the hashed
directory does not exist yet, an existing scope with the same origin is adopted (renamed into
place) only if it has no ``.project-root`` marker or the root it records no longer exists:
that is a clone that was moved. Two live clones of one origin never share a scope, and a root
recorded on a volume that is merely unmounted counts as live.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from animus_protocol.paths import ScopePaths, animus_home
from animus_store.atomic import write_text_atomic
from animus_store.errors import StateWriteError
from animus_store.locking import state_lock

__all__ = ["ScopeRoot", "ensure_scope_root", "git_origin", "open_scope_root"]

log = logging.getLogger("animus_store")

SCOPE_DIR_MODE = 0o700
# Parents under which a missing directory most likely means "volume not mounted".
_MOUNT_PARENTS = (Path("/Volumes"), Path("/media"), Path("/mnt"), Path("/run/media"))


def git_origin(project_root: str | os.PathLike[str]) -> str:
    """``git remote get-url origin`` in ``project_root``; empty when there is none."""
    try:
        done = subprocess.run(
            ["git", "-C", str(project_root), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


@dataclass(frozen=True)
class ScopeRoot:
    """What :func:`open_scope_root` did."""

    paths: ScopePaths
    created: bool
    adopted_from: Path | None = None


def _read_marker(path: Path) -> str | None:
    try:
        return path.read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return ""


def _maybe_unmounted(recorded: Path) -> bool:
    """True when ``recorded`` sits on a mount point that is absent (not proof it is gone)."""
    for parent in _MOUNT_PARENTS:
        try:
            rest = recorded.relative_to(parent)
        except ValueError:
            continue
        if not rest.parts:
            return False
        # /media/<user>/<volume>/... and /run/media/<user>/<volume>/... hold the user first.
        depth = 2 if parent.name in {"media"} and len(rest.parts) > 2 else 1
        volume = parent.joinpath(*rest.parts[:depth])
        return not volume.exists()
    return False


def _adoptable(scope_dir: Path, origin: str) -> bool:
    if _read_marker(scope_dir / ".git-origin") != origin:
        return False
    recorded = _read_marker(scope_dir / ".project-root")
    if not recorded:
        return True
    recorded_path = Path(recorded)
    if recorded_path.exists():
        return False  # a live clone: never share
    return not _maybe_unmounted(recorded_path)


def _find_adoptable(home: Path, wanted: Path, origin: str) -> Path | None:
    try:
        entries = sorted(p for p in home.iterdir() if p.is_dir() and p != wanted)
    except FileNotFoundError:
        return None
    candidates = [p for p in entries if _adoptable(p, origin)]
    if not candidates:
        return None
    # Prefer a scope of the same repository name, then the most recently used one.
    prefix = wanted.name.rsplit("-", 1)[0] + "-"
    candidates.sort(key=lambda p: (not p.name.startswith(prefix), -p.stat().st_mtime, p.name))
    return candidates[0]


def _write_markers(paths: ScopePaths, origin: str | None, *, replace_root: bool) -> None:
    if replace_root or not paths.project_root_marker.exists():
        write_text_atomic(paths.project_root_marker, f"{paths.project_root}\n")
    if not paths.git_origin_marker.exists():
        value = git_origin(paths.project_root) if origin is None else origin
        write_text_atomic(paths.git_origin_marker, f"{value}\n" if value else "")


def open_scope_root(
    project_root: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> ScopeRoot:
    """Create (or adopt) the runtime root of ``project_root``; reports what happened."""
    paths = ScopePaths.for_project(project_root, env)
    if not paths.project_root.is_dir():
        raise StateWriteError(f"project root {paths.project_root} is not an existing directory")
    if paths.root.is_dir():
        _write_markers(paths, None, replace_root=False)
        return ScopeRoot(paths, created=False)
    home = animus_home(env)
    try:
        home.mkdir(parents=True, exist_ok=True)
        # Adoption scans and renames sibling scopes: one process at a time per home.
        with state_lock(home / ".scopes"):
            if paths.root.is_dir():
                _write_markers(paths, None, replace_root=False)
                return ScopeRoot(paths, created=False)
            origin = git_origin(paths.project_root)
            adopted = _find_adoptable(home, paths.root, origin) if origin else None
            if adopted is not None:
                os.rename(adopted, paths.root)
                log.warning(
                    "adopted runtime state %s for moved clone %s (origin %s)",
                    adopted,
                    paths.project_root,
                    origin,
                )
                _write_markers(paths, origin, replace_root=True)
                return ScopeRoot(paths, created=False, adopted_from=adopted)
            paths.root.mkdir(mode=SCOPE_DIR_MODE)
            with contextlib.suppress(OSError):
                os.chmod(paths.root, SCOPE_DIR_MODE)  # mkdir's mode is masked by the umask
            _write_markers(paths, origin, replace_root=True)
            return ScopeRoot(paths, created=True)
    except OSError as exc:
        raise StateWriteError(
            f"cannot create the runtime directory {paths.root} for {paths.project_root}: "
            f"{exc.strerror or exc}"
        ) from exc


def ensure_scope_root(
    project_root: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> ScopePaths:
    """The runtime root of ``project_root``, created (mode 0700) or adopted on first use."""
    return open_scope_root(project_root, env).paths
