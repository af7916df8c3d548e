"""Animus domain models, status enums and transitions, the CLI envelope and exit codes, control-
socket models, repo scope and well-known paths.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-protocol")

__all__ = ["__version__"]
