"""Per-invocation state shared by every command (``ctx.obj``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = ["CliContext", "get_context"]


@dataclass
class CliContext:
    json_output: bool = False
    project_root_option: str | None = None
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
        """The project's service hub, opened on first use (bootstraps ``.animus/``)."""
        if "hub" not in self._cache:
            from animus_core.hub import ServiceHub

            self._cache["hub"] = ServiceHub(self.project_root)
        hub: ServiceHub = self._cache["hub"]
        return hub


def get_context() -> CliContext:
    """The CliContext of the running command (a default one outside ``animus``)."""
    ctx = click.get_current_context()
    obj = ctx.find_object(CliContext)
    if obj is None:
        obj = CliContext()
        ctx.obj = obj
    return obj
