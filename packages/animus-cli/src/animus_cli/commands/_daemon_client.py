"""How CLI commands reach the daemon: its control socket when it is up, nothing otherwise.

``nudge_daemon`` is what queue and subject commands call after a change so a running
daemon dispatches at once; it is fire-and-forget and silent when no daemon listens.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from animus_daemon_runtime.client import ControlClient

__all__ = ["call_daemon", "connect_daemon", "control_socket", "nudge_daemon", "require_daemon"]


def control_socket(project_root: str | os.PathLike[str]) -> Path:
    from animus_protocol.paths import ScopePaths

    return ScopePaths.for_project(Path(project_root).resolve()).control_sock


def nudge_daemon(project_root: str | os.PathLike[str], reason: str = "cli") -> bool:
    """Wake a running daemon now (True) or do nothing when none is up (False)."""
    try:
        path = control_socket(project_root)
    except (OSError, ValueError):
        return False
    if not path.exists():
        return False
    from animus_daemon_runtime.client import nudge

    return nudge(path, reason)


def connect_daemon(
    project_root: str | os.PathLike[str], timeout: float = 10.0
) -> ControlClient | None:
    """A client connected to the running daemon, or None when none answers."""
    path = control_socket(project_root)
    if not path.exists():
        return None
    from animus_daemon_runtime.client import ControlClient

    try:
        return ControlClient(path, timeout=timeout)
    except OSError:
        return None


def require_daemon(project_root: str | os.PathLike[str], timeout: float = 10.0) -> ControlClient:
    client = connect_daemon(project_root, timeout)
    if client is None:
        from animus_protocol.envelope import UnavailableError

        raise UnavailableError(
            "the daemon is not running for this project",
            details={"socket": str(control_socket(project_root))},
            hint="start it with 'animus daemon start'",
        )
    return client


def call_daemon(project_root: str | os.PathLike[str], method: str, params: Any = None) -> Any:
    with require_daemon(project_root) as client:
        return client.call(method, params)
