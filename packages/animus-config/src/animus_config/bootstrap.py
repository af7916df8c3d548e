"""Create a project's ``.animus/`` directory with a useful default configuration.

Idempotent: existing files are never touched, so running it again (or after editing) only
fills in what is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_config._atomic import dump_json, write_new_file
from animus_config._diagnostics import ConfigDiagnostic, ConfigError
from animus_config.loader import embedded_default_yaml
from animus_protocol.paths import ProjectPaths

__all__ = [
    "PROJECT_CONFIG_VERSION",
    "BootstrapReport",
    "bootstrap_project",
    "default_project_config",
]

PROJECT_CONFIG_VERSION = 1


def default_project_config() -> dict[str, Any]:
    """The content of a fresh ``.animus/config.json``."""
    return {
        "version": PROJECT_CONFIG_VERSION,
        "default_subject_kind": "task",
        "auto_update": {"mode": "notify", "check_interval": "P1D", "channel": "stable"},
    }


@dataclass
class BootstrapReport:
    """What ``bootstrap_project`` created and what it found already in place."""

    project_root: Path
    created: list[Path] = field(default_factory=list)
    existing: list[Path] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created)


def bootstrap_project(project_root: str | os.PathLike[str]) -> BootstrapReport:
    """Create ``.animus/config.json``, ``.animus/workflows.yaml`` and ``.animus/workflows/``."""
    root = Path(project_root)
    if not root.is_dir():
        raise ConfigError([ConfigDiagnostic("error", "project root is not a directory", str(root))])
    paths = ProjectPaths(root)
    report = BootstrapReport(project_root=root)
    for path, data in (
        (paths.config_json, dump_json(default_project_config())),
        (paths.workflows_yaml, embedded_default_yaml().encode("utf-8")),
    ):
        (report.created if write_new_file(path, data) else report.existing).append(path)
    if paths.workflows_dir.is_dir():
        report.existing.append(paths.workflows_dir)
    else:
        paths.workflows_dir.mkdir(parents=True, exist_ok=True)
        report.created.append(paths.workflows_dir)
    return report
