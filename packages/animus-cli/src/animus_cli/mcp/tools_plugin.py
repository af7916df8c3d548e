"""``animus.plugin.*``: discovered plugins, their manifests, ping and one JSON-RPC call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field

from animus_cli.commands._plugin_support import (
    as_cli_error,
    discover_plugins,
    find_plugin,
    lock_entries,
    plugin_row,
)
from animus_cli.mcp._models import ToolInput, ToolSpec
from animus_cli.mcp._pagination import PageInput, page_of
from animus_protocol.envelope import InvalidInputError

if TYPE_CHECKING:
    from pathlib import Path

    from animus_cli.mcp._context import ToolContext

__all__ = ["PLUGIN_TOOLS"]

_NAME = Field(..., min_length=1, description="The plugin name, e.g. animus-provider-mock.")


class PluginListInput(PageInput):
    kind: str | None = Field(None, description="Only plugins serving this kind.")
    include_system_path: bool = Field(False, description="Also scan $PATH for animus-* plugins.")


def plugin_list(ctx: ToolContext, args: PluginListInput) -> dict[str, Any]:
    found = discover_plugins(
        ctx.root(args.project_root), include_system_path=args.include_system_path, env=ctx.env
    )
    plugins = [p for p in found.plugins.values() if args.kind is None or p.serves_kind(args.kind)]
    rows = [plugin_row(p) for p in sorted(plugins, key=lambda p: p.name)]
    return page_of(
        rows,
        "plugins",
        args,
        {
            "warnings": [
                {"source": w.source, "candidate": w.candidate, "message": w.message}
                for w in found.warnings
            ],
            "shadowed": [
                {
                    "name": s.name,
                    "winner_source": s.winner_source,
                    "winner": s.winner,
                    "shadowed_source": s.shadowed_source,
                    "shadowed": s.shadowed,
                }
                for s in found.shadowed
            ],
        },
    )


class PluginNameInput(ToolInput):
    name: str = _NAME


def plugin_info(ctx: ToolContext, args: PluginNameInput) -> dict[str, Any]:
    root = ctx.root(args.project_root)
    found = discover_plugins(root, env=ctx.env)
    plugin = find_plugin(found, args.name)
    locks = [
        {"scope": scope, "lockfile": str(path), **entry.to_toml()}
        for scope, path, entry in lock_entries(root)
        if entry.name == plugin.name
    ]
    return {
        **plugin_row(plugin),
        "manifest": plugin.manifest.model_dump(mode="json", exclude_none=True),
        "lock": locks[0] if locks else None,
        "shadowed": [
            f"{s.shadowed} ({s.shadowed_source})" for s in found.shadowed if s.name == plugin.name
        ],
    }


def _check_required_env(plugin: Any, env: Mapping[str, str]) -> None:
    """A plugin that cannot start without its variables is invalid input, named up front."""
    from animus_plugin_host import missing_required_env

    required = [r.name for r in plugin.manifest.env_required if r.required]
    missing = missing_required_env(required, env)
    if missing:
        raise InvalidInputError(
            f"{plugin.name} requires {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} unset",
            details={"plugin": plugin.name, "missing_env": missing},
            hint="set them in the environment of animus mcp serve",
        )


async def _with_process(
    root: Path, env: Mapping[str, str], name: str, method: str, params: Any, *, deadline: float
) -> Any:
    from animus_plugin_host import PluginHost

    # The server's environment (ANIMUS_HOME above all), not this process's: the host's
    # discovery, manifest cache and plugin logs must land in the same home as the hub's.
    host = PluginHost(root, env=env)
    plugin = find_plugin(host.discovery(), name)
    _check_required_env(plugin, env)
    try:
        proc = await host.start(plugin)
    except Exception as exc:
        raise as_cli_error(exc, plugin=name, method="initialize") from exc
    try:
        if method == "$/ping":
            return await proc.ping(timeout=deadline)
        return await proc.call(method, params, timeout=deadline)
    except Exception as exc:
        raise as_cli_error(exc, plugin=name, method=method) from exc
    finally:
        await proc.shutdown()


class PluginPingInput(PluginNameInput):
    timeout_secs: float = Field(5.0, gt=0, le=120, description="Give up after this long.")


def plugin_ping(ctx: ToolContext, args: PluginPingInput) -> dict[str, Any]:
    import asyncio

    seconds = asyncio.run(
        _with_process(
            ctx.root(args.project_root),
            ctx.env,
            args.name,
            "$/ping",
            {},
            deadline=args.timeout_secs,
        )
    )
    return {"plugin": args.name, "ok": True, "latency_ms": round(seconds * 1000, 3)}


class PluginCallInput(PluginNameInput):
    method: str = Field(..., min_length=1, description="The JSON-RPC method, e.g. subject/list.")
    params: Any = Field(None, description="The request params (any JSON; default {}).")
    timeout_secs: float = Field(30.0, gt=0, le=600, description="Give up after this long.")


def plugin_call(ctx: ToolContext, args: PluginCallInput) -> dict[str, Any]:
    import asyncio

    params = {} if args.params is None else args.params
    result = asyncio.run(
        _with_process(
            ctx.root(args.project_root),
            ctx.env,
            args.name,
            args.method,
            params,
            deadline=args.timeout_secs,
        )
    )
    return {"plugin": args.name, "method": args.method, "result": result}


PLUGIN_TOOLS = (
    ToolSpec(
        "animus.plugin.list",
        "Discovered plugins with their source tier (paged: plugins, total, next_offset), "
        "discovery warnings and shadowed entries.",
        PluginListInput,
        plugin_list,
    ),
    ToolSpec(
        "animus.plugin.info",
        "Manifest, source tier, executable and lock entry of one plugin.",
        PluginNameInput,
        plugin_info,
    ),
    ToolSpec(
        "animus.plugin.ping",
        "Start a plugin, handshake, $/ping it and report the round trip.",
        PluginPingInput,
        plugin_ping,
    ),
    ToolSpec(
        "animus.plugin.call",
        "Send one JSON-RPC request to a plugin and return its result.",
        PluginCallInput,
        plugin_call,
        read_only=False,
    ),
)
