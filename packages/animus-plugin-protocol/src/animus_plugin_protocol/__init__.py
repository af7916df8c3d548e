"""Wire contracts for Animus plugins: JSON-RPC 2.0 framing, error codes, manifest, per-kind models,
and the plugin-author runtime.
"""

from importlib.metadata import version as _version

__version__ = _version("animus-plugin-protocol")

__all__ = ["__version__"]
