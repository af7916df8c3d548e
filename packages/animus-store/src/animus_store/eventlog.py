"""Append-only JSONL event logs with size rotation and secret redaction.

Each record is redacted, encoded as one line and written with a single ``write`` on an
``O_APPEND`` descriptor, so lines from concurrent processes never interleave. Before a write
the file size is checked; rotation (``events.jsonl`` → ``.1`` → ... → ``.<backups>``, the
oldest dropped) happens under ``<path>.lock`` and re-checks the size, so two processes never
rotate twice for one overflow. Readers walk the rotated files oldest first.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import deque
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from animus_store.db import utc_now
from animus_store.errors import StateWriteError
from animus_store.locking import state_lock
from animus_store.redact import Redactor

__all__ = ["DEFAULT_BACKUPS", "DEFAULT_MAX_BYTES", "EventLog"]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUPS = 5


class EventLog:
    """One JSONL log file plus its rotated backups."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = DEFAULT_BACKUPS,
        redactor: Redactor | None = None,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}")
        if backups < 0:
            raise ValueError(f"backups must be >= 0, not {backups}")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.redactor = Redactor.from_env() if redactor is None else redactor

    # -- writing ---------------------------------------------------------------------------

    def append(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Redact and append one record (``ts`` added when missing); returns what was written."""
        if not isinstance(record, Mapping):
            raise TypeError(f"an event record must be a mapping, not {type(record).__name__}")
        entry = dict(record)
        entry.setdefault("ts", utc_now())
        redacted: dict[str, Any] = self.redactor.redact(entry)
        try:
            line = json.dumps(redacted, ensure_ascii=False, allow_nan=False, default=str) + "\n"
        except ValueError as exc:
            raise StateWriteError(f"event for {self.path} is not JSON-serializable: {exc}") from exc
        payload = line.encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._size() + len(payload) > self.max_bytes:
                self._rotate(len(payload))
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(fd, payload)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StateWriteError(f"cannot append to {self.path}: {exc.strerror or exc}") from exc
        if written != len(payload):
            raise StateWriteError(f"short write to {self.path} ({written}/{len(payload)} bytes)")
        return redacted

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def _backup(self, n: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{n}")

    def _rotate(self, incoming: int) -> None:
        with state_lock(self.path):
            size = self._size()
            if size == 0 or size + incoming <= self.max_bytes:
                return  # another process rotated already
            if self.backups == 0:
                self.path.unlink(missing_ok=True)
                return
            self._backup(self.backups).unlink(missing_ok=True)
            for n in range(self.backups - 1, 0, -1):
                with contextlib.suppress(FileNotFoundError):
                    os.rename(self._backup(n), self._backup(n + 1))
            os.rename(self.path, self._backup(1))

    # -- reading -----------------------------------------------------------------------------

    def files(self) -> list[Path]:
        """Existing log files, oldest first."""
        candidates = [self._backup(n) for n in range(self.backups, 0, -1)] + [self.path]
        return [p for p in candidates if p.exists()]

    def _records(self, path: Path) -> Iterator[dict[str, Any]]:
        try:
            with path.open("rb") as handle:
                for raw in handle:
                    try:
                        value = json.loads(raw)
                    except ValueError:
                        continue  # a line torn by a crash mid-write; the rest is intact
                    if isinstance(value, dict):
                        yield value
        except FileNotFoundError:
            return  # rotated away while we were reading

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for path in self.files():
            yield from self._records(path)

    def tail(self, n: int) -> list[dict[str, Any]]:
        """The last ``n`` records across the current and rotated files, oldest first.

        Files are read backwards in blocks, so the cost follows ``n``, not the log's size.
        """
        if n <= 0:
            return []
        found: deque[dict[str, Any]] = deque()
        for path in reversed(self.files()):
            for raw in _lines_backwards(path):
                try:
                    value = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    found.appendleft(value)
                    if len(found) >= n:
                        return list(found)
        return list(found)

    def iter_since(self, since: int | str | datetime) -> Iterator[dict[str, Any]]:
        """Records after ``since``: an int compares with each record's ``seq``; a timestamp
        (RFC 3339 string or aware datetime) with its ``ts``."""
        if isinstance(since, bool):
            raise TypeError("since must be a seq number or a timestamp, not a bool")
        if isinstance(since, int):
            for record in self:
                seq = record.get("seq")
                if isinstance(seq, int) and not isinstance(seq, bool) and seq > since:
                    yield record
            return
        cutoff = _parse_ts(since)
        for record in self:
            ts = record.get("ts")
            if isinstance(ts, str):
                try:
                    when = _parse_ts(ts)
                except ValueError:
                    continue
                if when > cutoff:
                    yield record


def _lines_backwards(path: Path, block: int = 64 * 1024) -> Iterator[bytes]:
    """Non-empty lines of ``path`` from last to first."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        position = handle.seek(0, os.SEEK_END)
        pending = b""
        while position > 0:
            step = min(block, position)
            position -= step
            handle.seek(position)
            pending = handle.read(step) + pending
            lines = pending.split(b"\n")
            pending = lines[0]  # may continue in the previous block
            for line in reversed(lines[1:]):
                if line.strip():
                    yield line
        if pending.strip():
            yield pending


def _parse_ts(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not an RFC 3339 timestamp: {value!r}") from exc
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone; use UTC (…Z)")
    return moment
