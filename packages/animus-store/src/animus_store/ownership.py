"""One owner per scope: an exclusive file lock plus a fencing token.

The lock (``flock`` on e.g. ``daemon/daemon.lock``) keeps a second daemon out while the first
lives, and the kernel drops it when the owner dies, even by ``kill -9``. The fencing token,
taken from ``workflow.db`` after the lock, is strictly larger than every earlier owner's, so a
paused or partitioned former owner that still runs cannot write to the step journal.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from animus_store.db import Database
from animus_store.errors import LockTimeoutError, StoreError

__all__ = ["ScopeClaim", "claim_scope"]


class ScopeClaim:
    """A held claim on a scope. Release it with :meth:`release` or a ``with`` block."""

    def __init__(self, lock: FileLock, lock_path: Path, token: int, owner: str) -> None:
        self._lock = lock
        self.lock_path = lock_path
        self.token = token
        self.owner = owner

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def release(self) -> None:
        """Give the scope up (the token stays valid until the next owner claims)."""
        if self._lock.is_locked:
            self._lock.release(force=True)

    def __enter__(self) -> ScopeClaim:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def claim_scope(
    lock_path: str | os.PathLike[str],
    db: Database,
    owner: str,
    *,
    scope: str = "daemon",
    timeout: float = 0.0,
) -> ScopeClaim:
    """Take the scope's lock (waiting up to ``timeout`` s) and a fresh fencing token.

    Raises LockTimeoutError when another live process owns the scope.
    """
    if not owner:
        raise ValueError("owner must name the claiming process (e.g. 'daemon pid 4242')")
    path = Path(lock_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(
        str(path), timeout=timeout, thread_local=False, is_singleton=False, poll_interval=0.01
    )
    try:
        lock.acquire()
    except Timeout as exc:
        raise LockTimeoutError(path, timeout) from exc
    try:
        token = db.acquire_fencing_token(owner, scope)
    except BaseException:
        lock.release(force=True)
        raise
    if token <= 0:  # pragma: no cover - the counter starts at 1 and only grows
        lock.release(force=True)
        raise StoreError(f"fencing token for {scope!r} did not advance")
    return ScopeClaim(lock, path, token, owner)
