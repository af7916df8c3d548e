"""Atomic file writes: temp file in the target directory, fsync, rename, fsync the directory.

animus-config sits beside animus-store in the layer table and may not import it, so it keeps
this small helper of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["dump_json", "write_bytes_atomic", "write_new_file"]


def dump_json(value: Any) -> bytes:
    """Deterministic, human-readable JSON (sorted keys, two-space indent, final newline)."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_with(directory: Path, name: str, data: bytes) -> str:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``; readers see the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_with(path.parent, path.name, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_new_file(path: Path, data: bytes) -> bool:
    """Create ``path`` atomically only if it does not exist; ``False`` when it already did.

    ``os.link`` fails when the target exists, so two concurrent bootstraps cannot both write
    and a file the operator created meanwhile is never replaced.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return False
    tmp = _temp_with(path.parent, path.name, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    _fsync_dir(path.parent)
    return True
