"""Errors raised by the store. Each names the file or row it is about and what to do.

They are :class:`animus_protocol.envelope.AnimusError` subclasses, so the CLI and the control
socket report them with a stable code and exit status: a lock or schema problem is
``unavailable`` (5), a fencing or replay conflict ``conflict`` (4), a bad redaction pattern
``invalid_input`` (2), an I/O or corrupt-file problem ``internal`` (1).
"""

from __future__ import annotations

from pathlib import Path

from animus_protocol.envelope import (
    AnimusError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)

__all__ = [
    "CorruptStateError",
    "LockTimeoutError",
    "RedactionConfigError",
    "SchemaVersionError",
    "StaleFencingTokenError",
    "StateWriteError",
    "StepConflictError",
    "StepNotFoundError",
    "StoreError",
]


class StoreError(AnimusError):
    """Base class of every error this package raises on purpose."""


class StateWriteError(StoreError):
    """A state file could not be written (the data is not JSON, or the OS refused)."""


class CorruptStateError(StoreError):
    """A state file failed to parse. It was moved aside to ``quarantined`` (when set)."""

    def __init__(self, path: Path, reason: str, quarantined: Path | None = None) -> None:
        self.path = path
        self.reason = reason
        self.quarantined = quarantined
        where = f"; moved aside to {quarantined}" if quarantined else ""
        super().__init__(
            f"state file {path} is not valid JSON ({reason}){where}",
            details={"path": str(path), "quarantined": str(quarantined) if quarantined else None},
        )


class LockTimeoutError(StoreError, UnavailableError):
    """A state lock was not acquired in time: another Animus process holds it."""

    def __init__(self, lock_path: Path, timeout: float) -> None:
        self.lock_path = lock_path
        self.timeout = timeout
        super().__init__(
            f"could not acquire lock {lock_path} within {timeout:g}s; another Animus process "
            "holds it (wait for it to finish, or stop it)",
            details={"lock": str(lock_path), "timeout_seconds": timeout},
        )


class SchemaVersionError(StoreError, UnavailableError):
    """The database was written by a newer Animus; it is never downgraded."""


class StaleFencingTokenError(StoreError, ConflictError):
    """A journal write carried a fencing token older than the scope's current one."""


class StepConflictError(StoreError, ConflictError):
    """A journal step does not match what was recorded for the same slot (replay mismatch)."""


class StepNotFoundError(StoreError, NotFoundError):
    """A journal step was committed or failed without a recorded intent."""


class RedactionConfigError(StoreError, InvalidInputError):
    """A redaction pattern from the environment is not a valid regular expression."""
