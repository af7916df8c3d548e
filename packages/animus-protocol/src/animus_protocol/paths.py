"""Well-known locations: the global Animus home and a project's scoped runtime root.

The home is ``$ANIMUS_HOME``, else ``$ANIMUS_CONFIG_DIR`` (the original's name), else
``~/.animus``. Every path a component needs is a property here, so no module builds
runtime paths by hand.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from animus_protocol.scope import canonical_root, repo_scope

__all__ = ["GlobalPaths", "ProjectPaths", "ScopePaths", "animus_home"]


def animus_home(env: Mapping[str, str] | None = None) -> Path:
    """The global Animus directory (not created)."""
    env = os.environ if env is None else env
    for key in ("ANIMUS_HOME", "ANIMUS_CONFIG_DIR"):
        value = env.get(key)
        if value:
            return Path(value).expanduser().resolve()
    return (Path.home() / ".animus").resolve()


@dataclass(frozen=True)
class GlobalPaths:
    """Files shared by every project of one user."""

    home: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GlobalPaths:
        return cls(animus_home(env))

    @property
    def plugins_dir(self) -> Path:
        return self.home / "plugins"

    @property
    def plugins_registry(self) -> Path:
        return self.home / "plugins.yaml"

    @property
    def plugins_lock(self) -> Path:
        return self.home / "plugins.lock"

    @property
    def manifest_cache_dir(self) -> Path:
        return self.home / "cache" / "manifests"

    @property
    def config_json(self) -> Path:
        return self.home / "config.json"


@dataclass(frozen=True)
class ProjectPaths:
    """Authored, project-local configuration under ``<project>/.animus/``."""

    project_root: Path

    @property
    def animus_dir(self) -> Path:
        return self.project_root / ".animus"

    @property
    def config_json(self) -> Path:
        return self.animus_dir / "config.json"

    @property
    def workflows_yaml(self) -> Path:
        return self.animus_dir / "workflows.yaml"

    @property
    def workflows_dir(self) -> Path:
        return self.animus_dir / "workflows"

    @property
    def plugins_dir(self) -> Path:
        return self.animus_dir / "plugins"

    @property
    def plugins_registry(self) -> Path:
        return self.animus_dir / "plugins.yaml"

    @property
    def plugins_lock(self) -> Path:
        return self.animus_dir / "plugins.lock"


@dataclass(frozen=True)
class ScopePaths:
    """Mutable runtime state of one project: ``<ANIMUS_HOME>/<repo-scope>/``."""

    root: Path
    project_root: Path

    @classmethod
    def for_project(
        cls, project_root: str | os.PathLike[str], env: Mapping[str, str] | None = None
    ) -> ScopePaths:
        canon = canonical_root(project_root)
        return cls(root=animus_home(env) / repo_scope(canon), project_root=canon)

    @property
    def scope(self) -> str:
        return self.root.name

    @property
    def core_state(self) -> Path:
        return self.root / "core-state.json"

    @property
    def workflow_db(self) -> Path:
        return self.root / "workflow.db"

    @property
    def project_root_marker(self) -> Path:
        return self.root / ".project-root"

    @property
    def git_origin_marker(self) -> Path:
        return self.root / ".git-origin"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def compiled_workflow_config(self) -> Path:
        return self.config_dir / "workflow-config.v2.json"

    @property
    def state_machines(self) -> Path:
        return self.config_dir / "state-machines.v1.json"

    @property
    def daemon_dir(self) -> Path:
        return self.root / "daemon"

    @property
    def pm_config(self) -> Path:
        return self.daemon_dir / "pm-config.json"

    @property
    def daemon_pid(self) -> Path:
        return self.daemon_dir / "daemon.pid"

    @property
    def daemon_lock(self) -> Path:
        return self.daemon_dir / "daemon.lock"

    @property
    def daemon_log(self) -> Path:
        return self.daemon_dir / "daemon.log"

    @property
    def daemon_state(self) -> Path:
        return self.daemon_dir / "daemon-state.json"

    @property
    def control_sock(self) -> Path:
        return self.root / "control.sock"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def events_log(self) -> Path:
        return self.logs_dir / "events.jsonl"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def phase_outputs_dir(self, workflow_id: str) -> Path:
        return self.state_dir / "workflows" / workflow_id / "phase-outputs"

    @property
    def worktrees_dir(self) -> Path:
        return self.root / "worktrees"

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "artifacts"
