"""MCP servers from a request -> the ``{"mcpServers": {...}}`` file ``--mcp-config`` reads."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from animus_plugin_protocol import RpcError

__all__ = ["normalize_mcp_servers", "write_mcp_config"]

_HTTP_TRANSPORTS = {"http": "http", "streamable-http": "http", "streamable_http": "http"}


def _bad(message: str) -> RpcError:
    return RpcError.invalid_params(f"mcp_servers: {message}")


def _server_entry(name: str, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise _bad(f"server {name!r} must be an object, got {type(spec).__name__}")
    entry = {k: v for k, v in spec.items() if k not in ("name", "transport")}
    command, url = spec.get("command"), spec.get("url")
    if isinstance(command, str) and command:
        args = spec.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise _bad(f"server {name!r}: 'args' must be a list of strings")
        env = spec.get("env", {})
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise _bad(f"server {name!r}: 'env' must map names to strings")
        entry.setdefault("type", "stdio")
        return entry
    if isinstance(url, str) and url:
        transport = str(spec.get("type") or spec.get("transport") or "http").lower()
        entry["type"] = _HTTP_TRANSPORTS.get(transport, transport)
        return entry
    raise _bad(f"server {name!r} needs a 'command' (stdio) or a 'url' (http/sse)")


def normalize_mcp_servers(value: Any) -> dict[str, dict[str, Any]]:
    """Accept ``{name: spec}``, ``{"mcpServers": {name: spec}}`` or ``[{name, ...}]``.

    A spec is ``{command, args?, env?}`` or ``{url, type|transport?, headers?}``.
    """
    if value is None:
        return {}
    if isinstance(value, dict) and isinstance(value.get("mcpServers"), dict):
        value = value["mcpServers"]
    servers: dict[str, dict[str, Any]] = {}
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = []
        for spec in value:
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise _bad("each list entry must be an object with a 'name'")
            items.append((spec["name"], spec))
    else:
        raise _bad(f"expected an object or a list, got {type(value).__name__}")
    for name, spec in items:
        if not isinstance(name, str) or not name.strip():
            raise _bad("server names must be non-empty strings")
        servers[name] = _server_entry(name, spec)
    return servers


def write_mcp_config(servers: dict[str, dict[str, Any]]) -> Path:
    """Write the config to a private (0600) temp file; the caller removes it after the run.

    The file can hold tokens (``env``, ``headers``), hence the mode.
    """
    fd, name = tempfile.mkstemp(prefix="animus-claude-mcp-", suffix=".json")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"mcpServers": servers}, fh)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
