"""Hosts Animus plugins: discovery, manifest probe, install and lockfile, stdio process
hosting, supervision, subject routing, preflight.
"""

from __future__ import annotations

from importlib.metadata import version as _version

from animus_plugin_host._discovery import (
    ENTRY_POINT_GROUP,
    DiscoveredPlugin,
    DiscoveryResult,
    DiscoveryWarning,
    ShadowedPlugin,
    discover,
    global_plugins_dir,
)
from animus_plugin_host._env import BASE_ENV_ALLOWLIST, build_plugin_env, missing_required_env
from animus_plugin_host._errors import (
    HandshakeError,
    InstallError,
    LockfileError,
    PluginCallError,
    PluginExitedError,
    PluginHostError,
    PluginNotFoundError,
    PluginTimeoutError,
    RestartBudgetExhaustedError,
    RouterSetupError,
)
from animus_plugin_host._host import PluginHost
from animus_plugin_host._install import (
    InstalledPlugin,
    install_from_path,
    install_requirement,
    uninstall,
)
from animus_plugin_host._lockfile import (
    LOCK_SCHEMA_VERSION,
    LockEntry,
    LockIssue,
    LockVerification,
    read_lock,
    verify_lock,
    write_lock,
)
from animus_plugin_host._preflight import PreflightIssue, PreflightReport, preflight
from animus_plugin_host._probe import ManifestProbeError, file_sha256, probe_manifest
from animus_plugin_host._process import (
    DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_NOTIFICATION_CAPACITY,
    PluginProcess,
    resolve_notification_capacity,
)
from animus_plugin_host._router import SubjectRoute, SubjectRouter, subject_kinds_of
from animus_plugin_host._subscription import PluginNotification, Subscription
from animus_plugin_host._supervisor import RestartPolicy, Supervisor

__version__ = _version("animus-plugin-host")

__all__ = [
    "BASE_ENV_ALLOWLIST",
    "DEFAULT_HANDSHAKE_TIMEOUT",
    "DEFAULT_NOTIFICATION_CAPACITY",
    "ENTRY_POINT_GROUP",
    "LOCK_SCHEMA_VERSION",
    "DiscoveredPlugin",
    "DiscoveryResult",
    "DiscoveryWarning",
    "HandshakeError",
    "InstallError",
    "InstalledPlugin",
    "LockEntry",
    "LockIssue",
    "LockVerification",
    "LockfileError",
    "ManifestProbeError",
    "PluginCallError",
    "PluginExitedError",
    "PluginHost",
    "PluginHostError",
    "PluginNotFoundError",
    "PluginNotification",
    "PluginProcess",
    "PluginTimeoutError",
    "PreflightIssue",
    "PreflightReport",
    "RestartBudgetExhaustedError",
    "RestartPolicy",
    "RouterSetupError",
    "ShadowedPlugin",
    "SubjectRoute",
    "SubjectRouter",
    "Subscription",
    "Supervisor",
    "__version__",
    "build_plugin_env",
    "discover",
    "file_sha256",
    "global_plugins_dir",
    "install_from_path",
    "install_requirement",
    "missing_required_env",
    "preflight",
    "probe_manifest",
    "read_lock",
    "resolve_notification_capacity",
    "subject_kinds_of",
    "uninstall",
    "verify_lock",
    "write_lock",
]
