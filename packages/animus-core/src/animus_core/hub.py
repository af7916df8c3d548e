"""The service hub: one object per project that every front end (CLI, daemon, MCP) uses.

Services are created on first use, so a command pays only for what it touches. The first
database access bootstraps the project (``.animus/``) and its scoped runtime root.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from animus_core.project import resolve_project_root
from animus_protocol.paths import GlobalPaths, ProjectPaths, ScopePaths

if TYPE_CHECKING:
    from animus_config import LoadedConfig
    from animus_core.error_log import ErrorLog
    from animus_core.history import HistoryService
    from animus_core.queue import QueueService
    from animus_core.requirements import RequirementService
    from animus_core.runs import WorkflowRunRepository
    from animus_core.status import StatusService
    from animus_core.subjects import SubjectRouter
    from animus_core.tasks import TaskService
    from animus_store import Database

__all__ = ["ServiceHub"]


class ServiceHub:
    """All services of one project. Thread-safe to share; cheap to construct."""

    def __init__(
        self,
        project_root: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        bootstrap: bool = True,
    ) -> None:
        self.env: Mapping[str, str] = dict(os.environ if env is None else env)
        self.project_root = Path(project_root).resolve()
        self.paths = ScopePaths.for_project(self.project_root, self.env)
        self.project_paths = ProjectPaths(self.project_root)
        self.global_paths = GlobalPaths.from_env(self.env)
        self._bootstrap = bootstrap
        self._lock = threading.Lock()
        self._ready = False

    @classmethod
    def discover(
        cls,
        project_root: str | os.PathLike[str] | None = None,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ServiceHub:
        """Resolve the project root (explicit > git common root > cwd) and open its hub."""
        return cls(resolve_project_root(project_root, cwd), env=env)

    def ensure_ready(self) -> None:
        """Bootstrap ``.animus/`` and the scoped runtime root (idempotent, once per hub)."""
        with self._lock:
            if not self._ready and self._already_bootstrapped():
                self._ready = True
            if not self._ready:
                from animus_store import ensure_scope_root

                ensure_scope_root(self.project_root, env=self.env)
                if self._bootstrap:
                    from animus_config import bootstrap_project

                    bootstrap_project(self.project_root)
                self._ready = True

    def _already_bootstrapped(self) -> bool:
        """Cheap check for the common case (every run after the first).

        Reading one marker file avoids importing the store's scope-root logic and the config
        package on each CLI start-up; anything unusual falls through to the full path.
        """
        try:
            recorded = self.paths.project_root_marker.read_text(encoding="utf-8").strip()
        except OSError:
            return False
        if recorded != str(self.paths.project_root):
            return False
        return not self._bootstrap or self.project_paths.config_json.is_file()

    @cached_property
    def db(self) -> Database:
        from animus_store import Database

        self.ensure_ready()
        return Database(self.paths.workflow_db)

    def load_config(self) -> LoadedConfig:
        """The validated workflow configuration (raises ConfigError with file:line)."""
        from animus_config import load_workflow_config

        return load_workflow_config(self.project_root, env=self.env)

    @cached_property
    def tasks(self) -> TaskService:
        from animus_core.tasks import TaskService

        return TaskService(self)

    @cached_property
    def requirements(self) -> RequirementService:
        from animus_core.requirements import RequirementService

        return RequirementService(self)

    @cached_property
    def subjects(self) -> SubjectRouter:
        from animus_core.subjects import SubjectRouter

        return SubjectRouter(self)

    @cached_property
    def queue(self) -> QueueService:
        from animus_core.queue import QueueService

        return QueueService(self)

    @cached_property
    def runs(self) -> WorkflowRunRepository:
        from animus_core.runs import WorkflowRunRepository

        return WorkflowRunRepository(self)

    @cached_property
    def history(self) -> HistoryService:
        from animus_core.history import HistoryService

        return HistoryService(self)

    @cached_property
    def errors(self) -> ErrorLog:
        from animus_core.error_log import ErrorLog

        return ErrorLog(self)

    @cached_property
    def status(self) -> StatusService:
        from animus_core.status import StatusService

        return StatusService(self)

    def nudge_daemon(self, reason: str) -> bool:
        """Wake this project's daemon, if one runs, after a change that may make work
        dispatchable (never blocks, never raises; False when no daemon listens)."""
        from animus_protocol.local_socket import send_nudge

        return send_nudge(self.paths.control_sock, reason)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()
            del self.__dict__["db"]

    def __enter__(self) -> ServiceHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
