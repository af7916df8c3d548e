"""Printing command results: envelopes under ``--json``, tables or plain text otherwise."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from animus_cli.context import get_context
from animus_protocol.envelope import dumps_envelope, success_envelope, to_jsonable

__all__ = ["emit", "emit_json_line", "print_kv", "print_table"]


def emit(data: Any, human: Callable[[Any], None] | None = None) -> None:
    """Print a command's result: a success envelope under --json, else ``human(data)``."""
    if get_context().json_output:
        sys.stdout.write(dumps_envelope(success_envelope(data)) + "\n")
        return
    if human is not None:
        human(data)
        return
    plain = to_jsonable(data)
    if isinstance(plain, Mapping):
        print_kv(plain)
    else:
        sys.stdout.write(json.dumps(plain, indent=2, ensure_ascii=False) + "\n")


def emit_json_line(data: Any) -> None:
    """One NDJSON line (live streams are exempt from the envelope)."""
    sys.stdout.write(json.dumps(to_jsonable(data), separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _cell(value: Any) -> str:
    value = to_jsonable(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def print_kv(data: Mapping[str, Any]) -> None:
    width = max((len(str(k)) for k in data), default=0)
    for key, value in data.items():
        sys.stdout.write(f"{str(key).ljust(width)}  {_cell(value)}\n")


def print_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    empty: str = "(none)",
) -> None:
    """A rich table on a terminal; tab-free aligned plain text when piped."""
    materialized = [[_cell(row.get(c)) for c in columns] for row in rows]
    if not materialized:
        sys.stdout.write(f"{empty}\n")
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for column in columns:
            table.add_column(column)
        for row in materialized:
            table.add_row(*row)
        Console().print(table)
        return
    if title:
        sys.stdout.write(f"{title}\n")
    widths = [max(len(c), *(len(r[i]) for r in materialized)) for i, c in enumerate(columns)]
    sys.stdout.write(
        "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n"
    )
    for row in materialized:
        sys.stdout.write(
            "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n"
        )
