"""Agent sessions for Animus: tool to provider resolution, long-lived provider processes, cancel,
resume, failure classification.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-session-host")

__all__ = ["__version__"]
