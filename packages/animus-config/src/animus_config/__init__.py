"""Animus project configuration: .animus/ bootstrap, workflow YAML schema, merge, interpolation,
validation with file:line errors, compile.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-config")

__all__ = ["__version__"]
