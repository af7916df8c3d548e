"""The animus command: CLI, envelope output, control-socket client, MCP server."""

from importlib.metadata import version as _version

__version__ = _version("animus-cli")

__all__ = ["__version__"]
