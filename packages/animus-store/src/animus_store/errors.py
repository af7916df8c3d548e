"""Errors raised by the store. Each names the file or row it is about and what to do."""

from __future__ import annotations

from pathlib import Path

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


class StoreError(Exception):
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
        super().__init__(f"state file {path} is not valid JSON ({reason}){where}")


class LockTimeoutError(StoreError):
    """A state lock was not acquired in time: another Animus process holds it."""

    def __init__(self, lock_path: Path, timeout: float) -> None:
        self.lock_path = lock_path
        self.timeout = timeout
        super().__init__(
            f"could not acquire lock {lock_path} within {timeout:g}s; another Animus process "
            "holds it (wait for it to finish, or stop it)"
        )


class SchemaVersionError(StoreError):
    """The database was written by a newer Animus; it is never downgraded."""


class StaleFencingTokenError(StoreError):
    """A journal write carried a fencing token older than the scope's current one."""


class StepConflictError(StoreError):
    """A journal step does not match what was recorded for the same slot (replay mismatch)."""


class StepNotFoundError(StoreError):
    """A journal step was committed or failed without a recorded intent."""


class RedactionConfigError(StoreError):
    """A redaction pattern from the environment is not a valid regular expression."""
