"""Runs one Animus agent phase: runtime contract, prompt rendering, session, run event log,
decision extraction.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-agent-runner")

__all__ = ["__version__"]
