"""The few TOML values codex's ``-c key=value`` overrides and ``config.toml`` need."""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["toml_document", "toml_key", "toml_value"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    """A bare key when allowed, else a quoted one."""
    return key if _BARE_KEY.match(key) else json.dumps(key)


def toml_value(value: Any) -> str:
    """An inline TOML value. JSON string escapes are valid TOML basic-string escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}" if inner else "{}"
    raise TypeError(f"cannot express {type(value).__name__} as a TOML value")


def _table(prefix: list[str], table: dict[str, Any], out: list[str]) -> None:
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, dict)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, dict)]
    if prefix and (scalars or not tables):
        out.append("[" + ".".join(toml_key(p) for p in prefix) + "]")
    for key, value in scalars:
        out.append(f"{toml_key(str(key))} = {toml_value(value)}")
    if scalars:
        out.append("")
    for key, value in tables:
        _table([*prefix, str(key)], value, out)


def toml_document(config: dict[str, Any]) -> str:
    """A ``config.toml`` document for a nested dict (tables for nested dicts)."""
    out: list[str] = []
    _table([], config, out)
    return "\n".join(out).rstrip() + "\n"
