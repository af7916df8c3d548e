"""The Animus daemon: scheduler, capacity, process manager, recovery, control socket,
schedules, triggers, notifications (daemon events), metrics.

Start one with :func:`run_daemon` (foreground, asyncio) or
:func:`~animus_daemon_runtime.lifecycle.start_detached`; talk to it with
:class:`~animus_daemon_runtime.client.ControlClient`.
"""

from __future__ import annotations

from importlib.metadata import version as _version

__version__ = _version("animus-daemon-runtime")

from animus_daemon_runtime.capacity import DispatchBudget, dispatch_budget
from animus_daemon_runtime.client import ControlClient, daemon_reachable, nudge
from animus_daemon_runtime.lifecycle import (
    DaemonPidInfo,
    read_pid_info,
    running_daemon,
    start_detached,
)

__all__ = [
    "ControlClient",
    "DaemonPidInfo",
    "DispatchBudget",
    "__version__",
    "daemon_reachable",
    "dispatch_budget",
    "nudge",
    "read_pid_info",
    "run_daemon",
    "running_daemon",
    "start_detached",
]


def run_daemon(project_root: str, **options: object) -> int:
    """Run the daemon in the foreground until it is stopped (``once=True``: one wake)."""
    import asyncio

    from animus_daemon_runtime.daemon import Daemon, DaemonOptions

    daemon = Daemon(project_root, DaemonOptions(**options))  # type: ignore[arg-type]
    return asyncio.run(daemon.run())
