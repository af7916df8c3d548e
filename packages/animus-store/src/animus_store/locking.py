"""Cross-process locks around read-modify-write of JSON state files.

The lock is a separate ``<path>.lock`` file (never the data file itself, which atomic writes
replace). ``filelock`` uses ``flock``, so two handles in one process exclude each other too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from animus_store.atomic import read_json_or_default, write_json_atomic
from animus_store.errors import LockTimeoutError

__all__ = ["DEFAULT_LOCK_TIMEOUT", "lock_path_for", "state_lock", "update_json"]

DEFAULT_LOCK_TIMEOUT = 30.0


def lock_path_for(path: str | os.PathLike[str]) -> Path:
    """The lock file guarding ``path``."""
    target = Path(path)
    return target.with_name(target.name + ".lock")


@contextmanager
def state_lock(
    path: str | os.PathLike[str], *, timeout: float = DEFAULT_LOCK_TIMEOUT
) -> Iterator[Path]:
    """Hold the exclusive lock for ``path``; raises LockTimeoutError after ``timeout`` s."""
    lock_file = lock_path_for(path)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(
        str(lock_file), timeout=timeout, thread_local=False, is_singleton=False, poll_interval=0.005
    )
    try:
        lock.acquire()
    except Timeout as exc:
        raise LockTimeoutError(lock_file, timeout) from exc
    try:
        yield lock_file
    finally:
        lock.release()


def update_json(
    path: str | os.PathLike[str],
    fn: Callable[[Any], Any],
    default: Any,
    *,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    indent: int | None = 2,
) -> Any:
    """Read ``path`` (or ``default``), apply ``fn``, write the result, all under the lock.

    ``fn`` may return a new document or mutate its argument in place and return None.
    Returns the document written. A corrupt file is quarantined and ``default`` used.
    """
    with state_lock(path, timeout=timeout):
        current = read_json_or_default(path, default)
        updated = fn(current)
        document = current if updated is None else updated
        write_json_atomic(path, document, indent=indent)
        return document
