"""Process identity: a pid alone is not an identity (pids are reused), pid + start time is.

The start time is field 22 of ``/proc/<pid>/stat`` (clock ticks since boot). A zombie counts
as gone: it will never do more work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["ProcessIdentity", "process_start_time", "same_process_alive"]


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int
    start_time: str | None

    def alive(self) -> bool:
        return same_process_alive(self.pid, self.start_time)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces or ')'.
    close = text.rfind(")")
    if close < 0:
        return None
    return text[close + 2 :].split()


def process_start_time(pid: int) -> str | None:
    """The start time of ``pid`` (``None`` when it does not exist or is a zombie)."""
    if pid <= 0:
        return None
    fields = _stat_fields(pid)
    if fields is None or len(fields) < 20:
        return None
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def same_process_alive(pid: int, start_time: str | None) -> bool:
    """True when ``pid`` runs and (if known) started at ``start_time``."""
    if pid <= 0:
        return False
    current = process_start_time(pid)
    if current is None:
        if not os.path.exists("/proc/self/stat"):  # pragma: no cover - non-Linux fallback
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        return False
    return start_time is None or current == start_time
