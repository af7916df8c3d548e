"""The MCP server entry that agents launched by Animus receive (``mcp_servers.animus``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["ANIMUS_SERVER_NAME", "animus_mcp_server_spec"]

ANIMUS_SERVER_NAME = "animus"
"""The built-in server name; claude sees its tools as ``mcp__animus__<tool>``."""

# Variables the server needs to find the same state as the process that launched it.
_PASSED_ENV = ("ANIMUS_HOME", "ANIMUS_CONFIG_DIR", "PYTHONPATH")


def animus_mcp_server_spec(
    project_root: str | os.PathLike[str],
    *,
    workflow_id: str | None = None,
    agent_id: str | None = None,
) -> dict[str, object]:
    """``{"command", "args", "env"}`` starting ``animus mcp serve`` for one project.

    The command is the interpreter running this process (``python -m animus_cli``), so it
    works without ``animus`` on ``PATH`` (a venv that is not activated, a uv tool install).
    ``workflow_id`` and ``agent_id`` scope the server to a run: tools that take a run id
    default to it, and the agent's management tools are withheld.
    """
    args = ["-m", "animus_cli", "mcp", "serve", "--project-root", str(Path(project_root))]
    if workflow_id:
        args += ["--workflow-id", workflow_id]
    if agent_id:
        args += ["--agent-id", agent_id]
    env = {name: os.environ[name] for name in _PASSED_ENV if os.environ.get(name)}
    return {"command": sys.executable, "args": args, "env": env}
