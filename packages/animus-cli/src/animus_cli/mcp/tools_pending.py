"""``animus.output.*`` and ``animus.daemon.*``: served by pieces that arrive separately.

Output tools need the output commands (``animus_cli.commands.output``); daemon tools need
the control-socket client (``animus_cli.commands._daemon_client``). Until they are installed
every one of these tools answers an ``unavailable`` tool error naming the missing module;
it never pretends to have done something.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from animus_cli.mcp._context import optional_module
from animus_cli.mcp._models import ToolInput, ToolSpec
from animus_cli.mcp._pagination import PageInput
from animus_protocol.envelope import UnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable

    from animus_cli.mcp._context import ToolContext

__all__ = ["DAEMON_TOOLS", "OUTPUT_TOOLS"]


class OutputRunInput(ToolInput):
    workflow_id: str | None = Field(None, description="Run id (default: the scoped run).")


class OutputTailInput(OutputRunInput):
    lines: int = Field(50, ge=1, le=2000, description="Last N event lines.")


class OutputPhaseInput(OutputRunInput):
    phase_id: str | None = Field(None, description="Only this phase.")


class DaemonInput(ToolInput):
    pass


class DaemonEventsInput(PageInput):
    pass


class DaemonLogsInput(ToolInput):
    lines: int = Field(100, ge=1, le=5000, description="Last N log lines.")


def _needs(module: str, what: str, tool: str) -> Callable[[ToolContext, Any], Any]:
    def handler(ctx: ToolContext, args: Any) -> Any:
        optional_module(module, what)
        raise UnavailableError(
            f"{tool} is not wired to {what} in this build",
            details={"tool": tool},
            hint="use the equivalent animus CLI command",
        )

    return handler


_OUTPUT = "animus_cli.commands.output"
_DAEMON = "animus_cli.commands._daemon_client"


def _output(verb: str, description: str, model: type[ToolInput]) -> ToolSpec:
    name = f"animus.output.{verb}"
    return ToolSpec(name, description, model, _needs(_OUTPUT, "the output commands", name))


def _daemon(verb: str, description: str, model: type[ToolInput], *, writes: bool) -> ToolSpec:
    name = f"animus.daemon.{verb}"
    return ToolSpec(
        name,
        description,
        model,
        _needs(_DAEMON, "the daemon control client", name),
        read_only=not writes,
        management=writes,
    )


OUTPUT_TOOLS = (
    _output("run", "What a run produced: its final output and result.", OutputRunInput),
    _output("tail", "The last lines of a run's event log.", OutputTailInput),
    _output("phase_outputs", "The outputs each phase of a run recorded.", OutputPhaseInput),
    _output("artifacts", "Files and artifacts a run produced.", OutputRunInput),
)

DAEMON_TOOLS = (
    _daemon(
        "status",
        "The daemon's state: running, paused, capacity, active runs.",
        DaemonInput,
        writes=False,
    ),
    _daemon("health", "The daemon's health checks.", DaemonInput, writes=False),
    _daemon("start", "Start the project's daemon.", DaemonInput, writes=True),
    _daemon("stop", "Stop the project's daemon.", DaemonInput, writes=True),
    _daemon("pause", "Pause dispatching (runs in flight continue).", DaemonInput, writes=True),
    _daemon("resume", "Resume dispatching.", DaemonInput, writes=True),
    _daemon("events", "Recent daemon events (paged).", DaemonEventsInput, writes=False),
    _daemon("logs", "The last lines of the daemon log.", DaemonLogsInput, writes=False),
)
