"""The daemon's log file ``daemon/daemon.log``: one line per record,
``<RFC 3339> <LEVEL> <target>: <message>`` (what ``daemon/logs`` parses)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from animus_protocol.paths import ScopePaths

__all__ = ["setup_logging"]


class _UtcFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{base}.{int(record.msecs):03d}Z"


def setup_logging(project_root: str | os.PathLike[str], *, level: int = logging.INFO) -> Path:
    """Send the ``animus`` loggers to ``daemon/daemon.log`` (idempotent)."""
    paths = ScopePaths.for_project(Path(project_root).resolve())
    paths.daemon_dir.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("animus")
    for handler in logger.handlers:
        if getattr(handler, "_animus_daemon", False):
            return paths.daemon_log
    handler = logging.FileHandler(paths.daemon_log, encoding="utf-8")
    handler._animus_daemon = True  # type: ignore[attr-defined]  # marker for idempotence
    handler.setFormatter(_UtcFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return paths.daemon_log
