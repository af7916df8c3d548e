"""`PluginHost`: discovery plus spawning with the right environment, cwd and buffers.

The one place that turns a :class:`DiscoveredPlugin` into a running :class:`PluginProcess`
(environment allowlist + the manifest's ``env_required`` + explicit extras, cwd = project
root, stderr to ``<logs>/plugins/<name>.log``) and keeps one :class:`Supervisor` per
plugin name for callers that want a long-lived, restarted process.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from animus_plugin_host._discovery import DiscoveredPlugin, DiscoveryResult, discover
from animus_plugin_host._env import build_plugin_env, missing_required_env
from animus_plugin_host._process import (
    DEFAULT_HANDSHAKE_TIMEOUT,
    PluginProcess,
    resolve_notification_capacity,
)
from animus_plugin_host._supervisor import RestartPolicy, Supervisor
from animus_protocol.paths import GlobalPaths, ScopePaths

__all__ = ["PluginHost"]

log = logging.getLogger("animus.plugin_host")


class PluginHost:
    """Discovers plugins for a project and starts / supervises their processes."""

    def __init__(
        self,
        project_root: Path | str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        include_system_path: bool = False,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
        restart_policy: RestartPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        log_dir: Path | None = None,
    ) -> None:
        self.project_root = Path(project_root).resolve() if project_root is not None else None
        self.env = dict(os.environ if env is None else env)
        self.include_system_path = include_system_path
        self.handshake_timeout = handshake_timeout
        self.restart_policy = restart_policy or RestartPolicy()
        self._sleep = sleep
        self._discovery: DiscoveryResult | None = None
        self._supervisors: dict[str, Supervisor] = {}
        if log_dir is None:
            base = (
                ScopePaths.for_project(self.project_root, self.env).logs_dir
                if self.project_root is not None
                else GlobalPaths.from_env(self.env).home / "logs"
            )
            log_dir = base / "plugins"
        self.log_dir = log_dir

    def discovery(self, *, refresh: bool = False) -> DiscoveryResult:
        if self._discovery is None or refresh:
            self._discovery = discover(
                self.project_root, env=self.env, include_system_path=self.include_system_path
            )
        return self._discovery

    def plugin(self, name: str) -> DiscoveredPlugin:
        return self.discovery().get(name)

    def plugin_env(
        self, plugin: DiscoveredPlugin, extras: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        return build_plugin_env(plugin.env_required, extras, source=self.env)

    async def start(
        self,
        plugin: DiscoveredPlugin | str,
        *,
        extra_env: Mapping[str, str] | None = None,
        handshake_timeout: float | None = None,
    ) -> PluginProcess:
        """Spawn and handshake one process of ``plugin``."""
        if isinstance(plugin, str):
            plugin = self.plugin(plugin)
        required = [r.name for r in plugin.manifest.env_required if r.required]
        missing = missing_required_env(required, {**self.env, **(extra_env or {})})
        if missing:
            log.warning(
                "plugin %s requires %s, which %s unset",
                plugin.name,
                ", ".join(missing),
                "is" if len(missing) == 1 else "are",
            )
        cwd = self.project_root or Path.cwd()
        return await PluginProcess.start(
            plugin.command,
            name=plugin.name,
            env=self.plugin_env(plugin, extra_env),
            cwd=cwd,
            project_root=self.project_root,
            notification_capacity=resolve_notification_capacity(
                plugin.manifest.notification_buffer_size, self.env
            ),
            handshake_timeout=handshake_timeout or self.handshake_timeout,
            stderr_log=self.log_dir / f"{plugin.name}.log",
        )

    def new_supervisor(self, plugin: DiscoveredPlugin | str) -> Supervisor:
        """A fresh supervisor for ``plugin`` (not shared)."""
        found = self.plugin(plugin) if isinstance(plugin, str) else plugin
        return Supervisor(
            found.name,
            lambda: self.start(found),
            self.restart_policy,
            sleep=self._sleep,
        )

    def supervisor(self, name: str) -> Supervisor:
        """The shared supervisor of plugin ``name`` (created on first use)."""
        sup = self._supervisors.get(name)
        if sup is None:
            sup = self._supervisors[name] = self.new_supervisor(name)
        return sup

    async def aclose(self) -> None:
        """Shut down every supervised process."""
        sups, self._supervisors = list(self._supervisors.values()), {}
        await asyncio.gather(*(s.stop() for s in sups), return_exceptions=True)
