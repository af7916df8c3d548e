"""The animus command: CLI, envelope output, control-socket client, MCP server."""

from __future__ import annotations

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    # importlib.metadata costs ~25 ms of start-up; only ``--version`` and the MCP server
    # need the version, so it is looked up on first access (PEP 562).
    if name == "__version__":
        from importlib.metadata import version

        value = version("animus-cli")
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'animus_cli' has no attribute {name!r}")
