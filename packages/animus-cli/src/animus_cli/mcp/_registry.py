"""Every ``animus.*`` tool, in family order."""

from __future__ import annotations

from animus_cli.mcp._models import ToolSpec
from animus_cli.mcp.tools_daemon import DAEMON_TOOLS
from animus_cli.mcp.tools_output import OUTPUT_TOOLS
from animus_cli.mcp.tools_plugin import PLUGIN_TOOLS
from animus_cli.mcp.tools_queue import QUEUE_TOOLS
from animus_cli.mcp.tools_runs import RUN_TOOLS
from animus_cli.mcp.tools_subject import SUBJECT_TOOLS
from animus_cli.mcp.tools_workflow import WORKFLOW_TOOLS

__all__ = ["all_tools"]


def all_tools() -> tuple[ToolSpec, ...]:
    return (
        *SUBJECT_TOOLS,
        *QUEUE_TOOLS,
        *RUN_TOOLS,
        *WORKFLOW_TOOLS,
        *OUTPUT_TOOLS,
        *DAEMON_TOOLS,
        *PLUGIN_TOOLS,
    )
