"""``animus init``: create ``.animus/`` and the project's runtime directory (idempotent)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import click

from animus_cli.commands._runs_common import say
from animus_cli.context import get_context
from animus_cli.output import emit

__all__ = ["command", "initialize"]


def initialize(
    project_root: os.PathLike[str] | str, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Bootstrap a project; report what was created and what already existed.

    ``env`` (default: the process environment) decides ``ANIMUS_HOME``.
    """
    from pathlib import Path

    from animus_config import bootstrap_project
    from animus_store import Database, open_scope_root

    root = Path(project_root)
    scope = open_scope_root(root, env)
    report = bootstrap_project(root)
    created = [str(p) for p in report.created]
    existing = [str(p) for p in report.existing]
    (created if scope.created else existing).append(str(scope.paths.root))
    db_path = scope.paths.workflow_db
    (existing if db_path.exists() else created).append(str(db_path))
    Database(db_path).close()
    return {
        "project_root": str(root),
        "scope_root": str(scope.paths.root),
        "workflow_db": str(db_path),
        "created": created,
        "existing": existing,
        "adopted_from": str(scope.adopted_from) if scope.adopted_from else None,
        "changed": bool(created),
    }


@click.command("init")
def command() -> None:
    """Create .animus/ (config.json, workflows.yaml) and the runtime state; safe to repeat."""
    result = initialize(get_context().project_root)

    def human(_: Any) -> None:
        say(f"project   {result['project_root']}")
        say(f"runtime   {result['scope_root']}")
        if result["adopted_from"]:
            say(f"adopted runtime state from {result['adopted_from']}")
        for path in result["created"]:
            say(f"created   {path}")
        if not result["created"]:
            say("already initialized; nothing to do")
        else:
            say("next: animus task create --title '...' && animus queue enqueue --task-id ...")

    emit(result, human)
