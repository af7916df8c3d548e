"""Confinement: every path a tool touches must stay inside the session's working directory."""

from __future__ import annotations

from pathlib import Path

__all__ = ["PathEscape", "confined"]


class PathEscape(ValueError):
    """A tool argument names a path outside the working directory (the message says why)."""


def confined(root: Path, relative: str) -> Path:
    """``relative`` resolved inside ``root`` (symlinks followed), or `PathEscape`.

    Absolute paths are refused outright; ``..`` segments and symlinks are allowed only when
    the fully resolved target is still ``root`` or below it.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise PathEscape("path must be a non-empty string relative to the working directory")
    if "\x00" in relative:
        raise PathEscape("path must not contain NUL bytes")
    candidate = Path(relative)
    if candidate.is_absolute() or relative.startswith("~"):
        raise PathEscape(
            f"absolute path {relative!r} refused; give a path relative to the working directory"
        )
    base = root.resolve()
    target = (base / candidate).resolve()
    if target != base and not target.is_relative_to(base):
        raise PathEscape(f"path {relative!r} escapes the working directory (resolves to {target})")
    return target
