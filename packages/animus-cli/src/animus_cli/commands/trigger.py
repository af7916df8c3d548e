"""``animus trigger``: the triggers configured in workflows.yaml, and firing a webhook one."""

from __future__ import annotations

from typing import Any

import click

from animus_cli.commands.daemon import trigger_fire
from animus_cli.context import get_context
from animus_cli.output import emit, print_table

__all__ = ["command"]


@click.group("trigger")
def command() -> None:
    """Triggers from workflows.yaml: list them; fire one through the running daemon."""


@command.command("list")
def list_triggers() -> None:
    """The configured triggers (id, type, workflow, enabled)."""
    loaded = get_context().hub.load_config()
    rows: list[dict[str, Any]] = [
        {
            "id": t.id,
            "type": t.type,
            "workflow_ref": t.workflow_ref,
            "enabled": t.enabled,
            "config": t.config,
        }
        for t in loaded.config.triggers
    ]
    emit(
        {"triggers": rows, "total": len(rows)},
        lambda data: print_table(
            data["triggers"],
            ["id", "type", "workflow_ref", "enabled"],
            empty="(no triggers in .animus/workflows.yaml)",
        ),
    )


# The same command as `animus daemon trigger-fire`, under the reference's name.
command.add_command(trigger_fire, name="fire")
