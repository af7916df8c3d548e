"""Unix socket paths longer than ``sun_path`` (~107 bytes) still work on Linux when reached
through ``/proc/self/fd/<directory fd>/<name>``: bind and connect resolve it like a path."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["MAX_SUN_PATH", "socket_address"]

MAX_SUN_PATH = 100  # conservative: 108 minus the terminating NUL and some headroom


@contextlib.contextmanager
def socket_address(path: str | os.PathLike[str]) -> Iterator[str]:
    """A path to bind or connect to for ``path`` (valid inside the ``with`` block)."""
    text = str(path)
    if len(text.encode()) <= MAX_SUN_PATH or not os.path.isdir("/proc/self/fd"):
        yield text
        return
    target = Path(text)
    fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{target.name}"
    finally:
        os.close(fd)
