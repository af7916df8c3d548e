"""The root ``animus`` command: global options, lazy subcommands, typed error handling.

Subcommand modules are imported only when their command runs (``LazyGroup``), so
``animus --version`` and ``animus --help`` pay for click alone. Every failure becomes an
``AnimusError`` with a typed exit code; under ``--json`` it is printed as an
``animus.cli.v1`` error envelope on stderr, otherwise as plain text with a hint.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from animus_cli.context import CliContext
from animus_cli.lazy import LazyCommand, LazyGroup

__all__ = ["COMMANDS", "cli", "run"]

_FAMILIES = {
    "init": "Create .animus/ and the runtime state of this project.",
    "status": "Counts, queue, active and blocked work, stale items.",
    "subject": "Work items of any kind: list, get, create, update, status, next, delete.",
    "task": "Tasks (shorthand for 'subject --kind task', plus task-only verbs).",
    "requirement": "Requirements and their review lifecycle; materialize tasks.",
    "queue": "The dispatch queue: enqueue, list, stats, hold, release, drop, reorder.",
    "workflow": "Workflow runs and definitions: list, get, decisions, checkpoints, config.",
    "history": "What ran: per task, recent, search.",
    "demo": "Run Animus end to end in a throwaway repository.",
    "plugin": "Plugins: list, info, ping, call, install, uninstall, lock verify, doctor.",
    "agent": "Run one agent session and stream its events.",
    "output": "What a run produced: read, phase outputs, event log, decisions.",
    "daemon": "The per-project daemon: start, stop, status, health, stream, config.",
    "mcp": "Serve Animus as MCP tools for agents (stdio or streamable HTTP).",
    "trigger": "Configured triggers: list them, fire a webhook trigger.",
    "logs": "Daemon, plugin and run logs as one time-ordered feed; tail --follow.",
}

# name -> where the command lives; each module is imported on first use only.
COMMANDS: dict[str, LazyCommand] = {
    name: LazyCommand(f"animus_cli.commands.{name}:command", short_help)
    for name, short_help in _FAMILIES.items()
}
COMMANDS["events"] = LazyCommand(
    "animus_cli.commands.logs:events_command", "Runner events of workflow runs; tail --follow."
)


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(
    None,
    "--version",
    "-V",
    package_name="animus-cli",  # resolved only when --version is given
    prog_name="animus",
    message="%(prog)s %(version)s",
)
@click.option("--json", "json_output", is_flag=True, help="Print animus.cli.v1 JSON envelopes.")
@click.option(
    "--project-root",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Project to act on (default: git common root of the cwd, else the cwd).",
)
@click.option(
    "--no-daemon",
    is_flag=True,
    help="Run service calls in process even when the daemon is up (also ANIMUS_NO_DAEMON=1).",
)
@click.pass_context
def cli(ctx: click.Context, json_output: bool, project_root: str | None, no_daemon: bool) -> None:
    """Animus: run a team of autonomous coding agents on a git repository."""
    ctx.obj = CliContext(
        json_output=json_output, project_root_option=project_root, no_daemon=no_daemon
    )


def _wants_json(argv: Sequence[str]) -> bool:
    """``--json`` anywhere before ``--``: known even when parsing fails."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def run(argv: Sequence[str]) -> int:
    """Run the CLI and return the process exit code (never raises)."""
    from animus_cli.errors import handle_exception

    args = list(argv)
    try:
        result = cli.main(args=args, prog_name="animus", standalone_mode=False)
    except BaseException as exc:
        return handle_exception(exc, json_output=_wants_json(args), argv=args)
    finally:
        _flush_quietly()
    return result if isinstance(result, int) else 0


def _flush_quietly() -> None:
    # A closed pipe (``animus ... | head``) must not turn into a traceback at exit.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
