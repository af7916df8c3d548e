"""Hosts Animus plugins: discovery, manifest probe, install and lockfile, stdio process hosting,
supervision, subject routing, preflight.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-plugin-host")

__all__ = ["__version__"]
