"""``animus mcp serve``: Animus as MCP tools (``animus.<family>.<verb>``) for agents.

The ``mcp`` SDK is imported only when the server starts, so the rest of the CLI does not
pay for it. stdout belongs to the protocol under stdio; diagnostics go to stderr.
"""

from __future__ import annotations

import click

from animus_cli.context import get_context

__all__ = ["command"]


@click.group(name="mcp")
def command() -> None:
    """Serve Animus as MCP tools for agents (stdio or streamable HTTP)."""


@command.command(name="serve")
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    show_default=True,
    help="stdio for a launched agent; http serves streamable HTTP on --host/--port.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP bind address.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="HTTP port."
)
@click.option(
    "--project-root",
    "project_root",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Project to serve (same as the global --project-root; this one wins).",
)
@click.option("--workflow-id", default=None, help="Scope to this run (default run id of tools).")
@click.option("--agent-id", default=None, help="The agent served; hides management tools.")
@click.option(
    "--management", is_flag=True, help="Expose management tools (daemon start/stop/...) anyway."
)
def serve(
    *,
    transport: str,
    host: str,
    port: int,
    project_root: str | None,
    workflow_id: str | None,
    agent_id: str | None,
    management: bool,
) -> None:
    """Run the MCP server until the client disconnects (stdio) or Ctrl-C (http)."""
    import asyncio
    import logging
    import sys

    from animus_cli.mcp import build_server
    from animus_cli.mcp._context import ServeOptions

    ctx = get_context()
    if project_root is not None:
        ctx.project_root_option = project_root
    root = ctx.project_root  # validated now: a bad --project-root fails before serving
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="animus-mcp: %(message)s")
    server = build_server(
        ServeOptions(
            project_root=str(root),
            workflow_id=workflow_id,
            agent_id=agent_id,
            management=management,
        )
    )
    if transport == "http":
        sys.stderr.write(f"animus mcp: serving http://{host}:{port}/mcp\n")
        asyncio.run(server.serve_http(host, port))
    else:
        asyncio.run(server.serve_stdio())
