"""JSON Schema export of every wire model.

``python -m animus_plugin_protocol.schema OUTDIR`` writes one ``<Model>.json`` per model plus
an ``index.json`` listing them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from . import _jsonrpc, _lifecycle
from .kinds import (
    durable_store,
    log_storage,
    notifier,
    provider,
    queue,
    subject,
    transport,
    trigger,
    workflow_runner,
)

__all__ = ["MODEL_MODULES", "all_models", "export_json_schemas", "main"]

MODEL_MODULES: tuple[ModuleType, ...] = (
    _jsonrpc,
    _lifecycle,
    provider,
    subject,
    trigger,
    transport,
    log_storage,
    notifier,
    queue,
    workflow_runner,
    durable_store,
)


def all_models() -> dict[str, type[BaseModel]]:
    """Every public model class, by name (names are unique across the kind modules)."""
    models: dict[str, type[BaseModel]] = {}
    for module in MODEL_MODULES:
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseModel):
                if name in models and models[name] is not value:
                    raise RuntimeError(f"two wire models are both called {name}")
                models[name] = value
    return models


def export_json_schemas() -> dict[str, dict[str, Any]]:
    """Model name -> its JSON Schema (validation mode, i.e. what a reader accepts)."""
    return {name: model.model_json_schema() for name, model in sorted(all_models().items())}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: python -m animus_plugin_protocol.schema OUTDIR", file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 2
    out = Path(args[0])
    try:
        out.mkdir(parents=True, exist_ok=True)
        schemas = export_json_schemas()
        for name, schema in schemas.items():
            (out / f"{name}.json").write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        (out / "index.json").write_text(json.dumps(sorted(schemas), indent=2) + "\n")
    except OSError as exc:
        print(f"error: cannot write schemas to {out}: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(schemas)} schemas to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
