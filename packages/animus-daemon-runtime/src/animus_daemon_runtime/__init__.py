"""The Animus daemon: scheduler, capacity, process manager, recovery, control socket, schedules,
triggers, notifications, metrics.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-daemon-runtime")

__all__ = ["__version__"]
