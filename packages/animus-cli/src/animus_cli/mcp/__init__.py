"""Animus as MCP tools: ``animus mcp serve`` and the server entry agents receive.

Only :func:`animus_mcp_server_spec` is cheap to import; the server (and the ``mcp`` SDK it
is built on) is imported by :func:`build_server`, which only ``animus mcp serve`` calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from animus_cli.mcp._spec import ANIMUS_SERVER_NAME, animus_mcp_server_spec

if TYPE_CHECKING:
    from animus_cli.mcp._context import ServeOptions
    from animus_cli.mcp._server import AnimusMcpServer

__all__ = ["ANIMUS_SERVER_NAME", "animus_mcp_server_spec", "build_server"]


def build_server(options: ServeOptions | None = None, **kwargs: Any) -> AnimusMcpServer:
    """The server with every ``animus.*`` tool for ``options`` (or ServeOptions(**kwargs))."""
    from animus_cli.mcp._context import ServeOptions
    from animus_cli.mcp._registry import all_tools
    from animus_cli.mcp._server import AnimusMcpServer

    return AnimusMcpServer(all_tools(), options or ServeOptions(**kwargs))
