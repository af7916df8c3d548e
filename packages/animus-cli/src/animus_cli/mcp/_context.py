"""What every tool call can reach: the project's services and the run scope."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from animus_protocol.envelope import InvalidInputError

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = ["ServeOptions", "ToolContext"]


@dataclass(frozen=True)
class ServeOptions:
    """How ``animus mcp serve`` was started."""

    project_root: str | None = None
    workflow_id: str | None = None
    agent_id: str | None = None
    management: bool = False

    @property
    def agent_scoped(self) -> bool:
        """An agent's server (``--agent-id``) hides management tools unless asked."""
        return self.agent_id is not None and not self.management


@dataclass
class ToolContext:
    """Shared by the tools of one server process; used from its single worker thread."""

    options: ServeOptions = field(default_factory=ServeOptions)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    _hubs: dict[Path, ServiceHub] = field(default_factory=dict, repr=False)
    _roots: dict[str | None, Path] = field(default_factory=dict, repr=False)

    def root(self, project_root: str | None = None) -> Path:
        """The project a call acts on: its ``project_root``, else the server's own."""
        wanted = project_root or self.options.project_root
        if wanted not in self._roots:
            from animus_core.project import ProjectRootError, resolve_project_root

            try:
                self._roots[wanted] = resolve_project_root(wanted)
            except ProjectRootError as exc:
                raise InvalidInputError(
                    str(exc),
                    details={"project_root": wanted},
                    hint="pass an existing project directory as project_root",
                ) from exc
        return self._roots[wanted]

    def hub(self, project_root: str | None = None) -> ServiceHub:
        """The service hub of that project (opened once per project)."""
        root = self.root(project_root)
        if root not in self._hubs:
            from animus_core.hub import ServiceHub

            self._hubs[root] = ServiceHub(root, env=self.env)
        return self._hubs[root]

    def run_id(self, given: str | None) -> str:
        """A tool's run id: the one given, else the run this server is scoped to."""
        chosen = given or self.options.workflow_id
        if not chosen:
            raise InvalidInputError(
                "workflow_id is required (this server is not scoped to a run)",
                hint="pass workflow_id; animus.workflow.list shows the runs",
            )
        return chosen
