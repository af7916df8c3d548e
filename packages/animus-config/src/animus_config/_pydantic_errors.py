"""Turn pydantic validation errors into diagnostics that point at the YAML source."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from animus_config._diagnostics import ConfigDiagnostic, FieldPath, SourceMap

__all__ = ["diagnostics_from_validation_error"]

# Keys the original accepted once and later removed: say why instead of "unknown key".
_REMOVED_KEY_HINTS: dict[tuple[str, str], str] = {
    ("merge", "auto_merge"): (
        "'auto_merge' was removed: a 'post_success.merge' block already merges on success; "
        "delete the key (set create_pr: true to open a pull request instead)"
    ),
    ("schedules", "command"): (
        "schedules no longer run shell commands: point 'workflow_ref' at a workflow "
        "(a command phase can run the command)"
    ),
}


def _model_at(root: type[BaseModel], path: FieldPath) -> type[BaseModel] | None:
    """The model class that owns the mapping at ``path`` (for listing its allowed keys)."""
    current: Any = root
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return None
            current = info.annotation
        else:
            current = _element_type(current, part)
            if current is None:
                return None
        current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(tp) if a is not type(None)]
        for arm in arms:
            inner = _unwrap(arm)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
        return _unwrap(arms[0]) if arms else tp
    return tp


def _element_type(tp: Any, part: str | int) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is list and isinstance(part, int) and args:
        return args[0]
    if origin is dict and isinstance(part, str) and len(args) == 2:
        return args[1]
    return None


def _clean_loc(loc: tuple[Any, ...]) -> FieldPath:
    # Pydantic adds tags such as "function-after[...]" or "[key]" for some schema kinds.
    return tuple(p for p in loc if isinstance(p, int) or not _is_tag(str(p)))


def _is_tag(part: str) -> bool:
    return part.startswith("function-") or "[" in part


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def diagnostics_from_validation_error(
    exc: ValidationError,
    smap: SourceMap,
    *,
    root: type[BaseModel],
    prefix: FieldPath = (),
) -> list[ConfigDiagnostic]:
    out: list[ConfigDiagnostic] = []
    for err in exc.errors():
        rel = _clean_loc(tuple(err["loc"]))
        path = (*prefix, *rel)
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(path[-1]) if path else "?"
            parent = rel[:-1]
            context = str(next((p for p in reversed(path[:-1]) if isinstance(p, str)), ""))
            hint = _REMOVED_KEY_HINTS.get((context, key)) or _REMOVED_KEY_HINTS.get(
                (str(path[0]) if path else "", key)
            )
            if hint:
                message = hint
            else:
                owner = _model_at(root, parent)
                allowed = sorted(owner.model_fields) if owner else []
                message = f"unknown key '{key}'" + (
                    f" (allowed: {', '.join(allowed)})" if allowed else ""
                )
            out.append(ConfigDiagnostic.at("error", message, smap.key_location(path), path))
            continue
        if kind == "missing":
            field_name = path[-1] if path else "?"
            loc = smap.key_location(path[:-1])
            out.append(
                ConfigDiagnostic.at("error", f"missing required key '{field_name}'", loc, path)
            )
            continue
        message = str(err["msg"])
        if kind == "value_error" and message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        elif kind not in ("model_type", "dict_type") or "input" in err:
            message = f"{message} (got {_short(err.get('input'))})"
        out.append(ConfigDiagnostic.at("error", message, smap.value_location(path), path))
    return out
