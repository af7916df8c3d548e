"""A best-effort configuration from data that failed schema validation.

When the schema rejects some entries we still want the reference errors of everything else
(an unknown phase elsewhere should not wait for the next run). Map-section entries that fail
are dropped (their names stay "known"); list entries that fail become placeholders whose own
checks are skipped, so indexes — and therefore field paths and source lines — do not shift.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from animus_config.schema import WorkflowConfig
from animus_config.validate import InvalidEntries

__all__ = ["best_effort_config"]

_PLACEHOLDER_FIELDS: dict[str, dict[str, Any]] = {
    "workflows": {"phases": []},
    "schedules": {"cron": "", "workflow_ref": ""},
    "triggers": {"type": "plugin", "workflow_ref": "", "config": {}},
}


def _model_arg(annotation: Any, position: int) -> type[BaseModel] | None:
    args = typing.get_args(annotation)
    if len(args) <= position:
        return None
    arg = args[position]
    return arg if isinstance(arg, type) and issubclass(arg, BaseModel) else None


def best_effort_config(data: dict[str, Any]) -> tuple[WorkflowConfig, InvalidEntries] | None:
    invalid = InvalidEntries()
    partial: dict[str, Any] = {}
    for key, value in data.items():
        info = WorkflowConfig.model_fields.get(key)
        if info is None:
            continue  # an unknown section, already reported
        annotation = info.annotation
        if annotation is None:
            continue
        origin = typing.get_origin(annotation)
        item = _model_arg(annotation, 1 if origin is dict else 0)
        if origin is dict and item is not None and isinstance(value, dict):
            good: dict[str, Any] = {}
            for name, entry in value.items():
                try:
                    good[name] = item.model_validate(entry)
                except ValidationError:
                    invalid.names.setdefault(key, set()).add(str(name))
            partial[key] = good
            continue
        if origin is list and item is not None and isinstance(value, list):
            items: list[Any] = []
            for index, entry in enumerate(value):
                try:
                    items.append(item.model_validate(entry))
                except ValidationError:
                    raw_id = entry.get("id") if isinstance(entry, dict) else None
                    placeholder_id = raw_id if isinstance(raw_id, str) else f"<invalid #{index}>"
                    items.append(
                        item.model_construct(id=placeholder_id, **_PLACEHOLDER_FIELDS.get(key, {}))
                    )
                    invalid.indexes.setdefault(key, set()).add(index)
            partial[key] = items
            continue
        try:
            partial[key] = TypeAdapter(annotation).validate_python(value)
        except ValidationError:
            continue  # keep the default; the error is already reported
    try:
        return WorkflowConfig.model_validate(partial), invalid
    except ValidationError:
        return None
