"""The Animus daemon: scheduler, capacity, process manager, recovery, control socket,
schedules, triggers, notifications (daemon events), metrics.

Start one with :func:`run_daemon` (foreground, asyncio) or
:func:`~animus_daemon_runtime.lifecycle.start_detached`; talk to it with
:class:`~animus_daemon_runtime.client.ControlClient`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from animus_daemon_runtime.capacity import DispatchBudget, dispatch_budget
    from animus_daemon_runtime.client import ControlClient, daemon_reachable, nudge
    from animus_daemon_runtime.lifecycle import (
        DaemonPidInfo,
        read_pid_info,
        running_daemon,
        start_detached,
    )

# Names load on first use (PEP 562): the CLI imports ``animus_daemon_runtime.client`` on
# every daemon-routed command and should not pay for the lifecycle module or for reading
# the distribution's metadata.
_LAZY = {
    "DispatchBudget": "animus_daemon_runtime.capacity",
    "dispatch_budget": "animus_daemon_runtime.capacity",
    "ControlClient": "animus_daemon_runtime.client",
    "daemon_reachable": "animus_daemon_runtime.client",
    "nudge": "animus_daemon_runtime.client",
    "DaemonPidInfo": "animus_daemon_runtime.lifecycle",
    "read_pid_info": "animus_daemon_runtime.lifecycle",
    "running_daemon": "animus_daemon_runtime.lifecycle",
    "start_detached": "animus_daemon_runtime.lifecycle",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        value: Any = version("animus-daemon-runtime")
    elif name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


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
