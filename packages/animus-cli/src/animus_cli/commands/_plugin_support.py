"""Shared pieces of ``animus plugin`` and ``animus agent``: discovery views, install scope,
JSON params, mapping plugin failures to typed CLI errors, running a coroutine."""

from __future__ import annotations

import json
import os
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from animus_protocol.envelope import (
    AnimusError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)

if TYPE_CHECKING:
    from animus_plugin_host import DiscoveredPlugin, DiscoveryResult, LockEntry

__all__ = [
    "INVALID_PARAMS",
    "Scope",
    "as_cli_error",
    "discover_plugins",
    "find_plugin",
    "install_scope",
    "lock_entries",
    "parse_json_params",
    "plugin_row",
    "run_coroutine",
]

T = TypeVar("T")
Scope = Literal["project", "global"]
INVALID_PARAMS = -32602
_METHOD_NOT_FOUND = -32601


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio

    return asyncio.run(coro)


def discover_plugins(
    project_root: Path,
    *,
    include_system_path: bool = False,
    env: Mapping[str, str] | None = None,
) -> DiscoveryResult:
    from animus_plugin_host import discover

    return discover(project_root, env=env, include_system_path=include_system_path)


def find_plugin(found: DiscoveryResult, name: str) -> DiscoveredPlugin:
    plugin = found.plugins.get(name)
    if plugin is None:
        broken = [str(w) for w in found.warnings if name in w.candidate]
        details: dict[str, Any] = {"plugin": name, "known": sorted(found.plugins)}
        if broken:
            details["warnings"] = broken
        raise NotFoundError(
            f"no plugin named {name!r} was discovered" + (f" ({broken[0]})" if broken else ""),
            details=details,
            hint="run `animus plugin list` to see the discovered plugins",
        )
    return plugin


def plugin_row(plugin: DiscoveredPlugin, *, verbose: bool = True) -> dict[str, Any]:
    manifest = plugin.manifest
    row: dict[str, Any] = {
        "name": plugin.name,
        "version": plugin.version,
        "kind": manifest.plugin_kind,
        "kinds": list(plugin.kinds),
        "source": plugin.source,
        "path": str(plugin.executable),
    }
    if verbose:
        row.update(
            {
                "description": manifest.description,
                "protocol_version": manifest.protocol_version,
                "command": list(plugin.command),
                "sha256": plugin.sha256,
                "env_required": [e.model_dump(mode="json") for e in manifest.env_required],
                "capabilities": list(manifest.capabilities),
            }
        )
    return row


def lock_entries(project_root: Path | None) -> list[tuple[Scope, Path, LockEntry]]:
    """``(scope, lockfile, entry)`` of both lockfiles (project first)."""
    from animus_plugin_host import read_lock
    from animus_protocol.paths import GlobalPaths, ProjectPaths

    files: list[tuple[Scope, Path]] = []
    if project_root is not None:
        files.append(("project", ProjectPaths(project_root).plugins_lock))
    files.append(("global", GlobalPaths.from_env(os.environ).plugins_lock))
    return [(scope, path, entry) for scope, path in files for entry in read_lock(path)]


def install_scope(project_root: Path, global_: bool) -> Scope:
    """Project scope when the project has ``.animus/`` (and ``--global`` was not given)."""
    from animus_protocol.paths import ProjectPaths

    if global_ or not ProjectPaths(project_root).animus_dir.is_dir():
        return "global"
    return "project"


def parse_json_params(text: str | None, file: str | None) -> Any:
    """``--params`` / ``--params-file`` (``-`` = stdin) as JSON; None when neither."""
    if text is not None and file is not None:
        raise InvalidInputError(
            "pass --params or --params-file, not both",
            hint="put the JSON in one place",
        )
    source = "--params"
    if file is not None:
        source = f"--params-file {file}"
        try:
            if file == "-":
                import sys

                text = sys.stdin.read()
            else:
                text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                f"cannot read {file}: {exc}", hint="pass a readable JSON file"
            ) from exc
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
            f"(char {exc.pos})",
            details={"line": exc.lineno, "column": exc.colno, "pos": exc.pos},
            hint='quote the JSON for the shell, e.g. --params \'{"key": "value"}\'',
        ) from exc


def as_cli_error(exc: BaseException, *, plugin: str, method: str | None = None) -> AnimusError:
    """A typed CLI error for a plugin failure: exit 2 for bad params, 3 for not found,
    4 for conflicts, 5 when the plugin is unreachable, crashed, timed out or failed."""
    from animus_plugin_host import (
        PluginCallError,
        PluginExitedError,
        PluginHostError,
        PluginTimeoutError,
    )

    if isinstance(exc, PluginCallError) and not isinstance(exc, PluginTimeoutError):
        details: dict[str, Any] = {
            "plugin": plugin,
            "method": exc.method,
            "rpc_code": exc.rpc_code,
            "category": exc.category,
            "rpc_message": exc.rpc_message,
        }
        if exc.data is not None:
            details["data"] = exc.data
        category = exc.category or ""
        if exc.rpc_code == INVALID_PARAMS or category in ("invalid_params", "invalid_request"):
            return InvalidInputError(
                exc.message,
                details=details,
                code=exc.code,
                hint=f"check the params of {exc.method} against the plugin's documentation",
            )
        if exc.rpc_code == _METHOD_NOT_FOUND or category == "not_found":
            return NotFoundError(
                exc.message,
                details=details,
                code=exc.code if category else "method_not_found",
                hint=f"`animus plugin info {plugin}` lists the methods it declares",
            )
        if category == "conflict":
            return ConflictError(exc.message, details=details, code=exc.code)
        return UnavailableError(
            exc.message,
            details=details,
            code=exc.code,
            hint=f"the plugin's stderr log: `animus plugin info {plugin}` shows where it is",
        )
    if isinstance(exc, AnimusError) and not isinstance(exc, PluginHostError):
        return exc
    message = exc.message if isinstance(exc, AnimusError) else f"{type(exc).__name__}: {exc}"
    details = dict(exc.details) if isinstance(exc, AnimusError) else {}
    details.setdefault("plugin", plugin)
    if method is not None:
        details.setdefault("method", method)
    if isinstance(exc, PluginTimeoutError):
        details["rpc_code"] = exc.rpc_code
        details["category"] = "timeout"
    elif isinstance(exc, PluginExitedError):
        details["category"] = "process_exited"
    code = exc.code if isinstance(exc, AnimusError) else "unavailable"
    if isinstance(exc, AnimusError) and not isinstance(exc, UnavailableError | PluginTimeoutError):
        # An install, lockfile or router error keeps its own exit status.
        return exc
    return UnavailableError(
        message,
        details=details,
        code=code,
        hint=(exc.hint if isinstance(exc, AnimusError) and exc.hint else None)
        or f"check that {plugin} starts: `animus plugin ping {plugin}`",
    )
