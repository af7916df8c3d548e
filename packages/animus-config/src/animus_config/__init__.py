"""Animus project configuration: .animus/ bootstrap, workflow YAML schema, merge, interpolation,
validation with file:line errors, compile, and the daemon config.
"""

from __future__ import annotations

from importlib.metadata import version as _version

from animus_config._diagnostics import ConfigDiagnostic, ConfigError, SourceLocation, SourceMap
from animus_config.bootstrap import BootstrapReport, bootstrap_project
from animus_config.compile import compile_workflow_config, compiled_workflow, write_compiled
from animus_config.daemon import (
    DaemonConfig,
    effective_pool_size,
    load_daemon_config,
    save_daemon_config,
)
from animus_config.loader import LoadedConfig, config_fingerprint, load_workflow_config
from animus_config.schema import WorkflowConfig

__version__ = _version("animus-config")

__all__ = [
    "BootstrapReport",
    "ConfigDiagnostic",
    "ConfigError",
    "DaemonConfig",
    "LoadedConfig",
    "SourceLocation",
    "SourceMap",
    "WorkflowConfig",
    "__version__",
    "bootstrap_project",
    "compile_workflow_config",
    "compiled_workflow",
    "config_fingerprint",
    "effective_pool_size",
    "load_daemon_config",
    "load_workflow_config",
    "save_daemon_config",
    "write_compiled",
]
