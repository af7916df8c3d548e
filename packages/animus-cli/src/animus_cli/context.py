"""Per-invocation state shared by every command (``ctx.obj``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = ["CliContext", "get_context"]


@dataclass
class CliContext:
    json_output: bool = False
    project_root_option: str | None = None
    no_daemon: bool = False
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def project_root(self) -> Path:
        """The resolved project root (``--project-root`` > git common root > cwd)."""
        if "project_root" not in self._cache:
            from animus_core.project import ProjectRootError, resolve_project_root
            from animus_protocol.envelope import InvalidInputError

            try:
                self._cache["project_root"] = resolve_project_root(self.project_root_option)
            except ProjectRootError as exc:
                raise InvalidInputError(
                    str(exc), hint="pass an existing directory to --project-root"
                ) from exc
        root: Path = self._cache["project_root"]
        return root

    @property
    def hub(self) -> ServiceHub:
        """The project's service hub, opened on first use (bootstraps ``.animus/``).

        While the project's daemon is up, the data commands (task, requirement, queue,
        history, status, workflow list/get/...) get a :class:`~animus_cli._remote_hub.RemoteHub`
        instead: the same interface, with the service calls run by the daemon over its control
        socket. ``--no-daemon`` or ``ANIMUS_NO_DAEMON=1`` keeps everything in process.
        """
        if "hub" not in self._cache:
            from animus_core.hub import ServiceHub

            local = ServiceHub(self.project_root)
            self._cache["local_hub"] = local
            self._cache["hub"] = self._routed(local) or local
        hub: ServiceHub = self._cache["hub"]
        return hub

    def _routed(self, local: ServiceHub) -> ServiceHub | None:
        from animus_cli._remote_hub import (
            connect_remote_hub,
            daemon_routing_disabled,
            routes_through_daemon,
        )

        if daemon_routing_disabled(self.no_daemon) or not routes_through_daemon(_command_path()):
            return None
        remote = connect_remote_hub(local)
        if remote is None:
            return None
        ctx = click.get_current_context(silent=True)
        if ctx is not None:
            ctx.find_root().call_on_close(remote.close)
        # A look-alike: every attribute a command uses exists on it (see _remote_hub).
        return cast("ServiceHub", remote)


def _command_path() -> list[str]:
    """The names of the running command below ``animus`` (``["task", "list"]``)."""
    ctx = click.get_current_context(silent=True)
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return names[::-1]


def get_context() -> CliContext:
    """The CliContext of the running command (a default one outside ``animus``)."""
    ctx = click.get_current_context()
    obj = ctx.find_object(CliContext)
    if obj is None:
        obj = CliContext()
        ctx.obj = obj
    return obj
