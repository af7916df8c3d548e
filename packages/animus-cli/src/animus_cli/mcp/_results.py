"""Tool results: the ``animus.cli.v1`` envelope as text and as structured content.

A failure becomes an MCP tool error (``isError: true``) whose envelope carries the error
``category`` (``invalid_input``, ``not_found``, ``conflict``, ``unavailable``, ``internal``),
the specific ``code``, the ``message`` and the ``hint``, so an agent can correct itself.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError

from animus_protocol.envelope import (
    CLI_SCHEMA,
    AnimusError,
    ExitCode,
    InternalError,
    InvalidInputError,
    success_envelope,
    to_jsonable,
)

__all__ = [
    "CATEGORIES",
    "as_error",
    "dumps",
    "error_envelope_of",
    "schema_error",
    "success_envelope_of",
]

_log = logging.getLogger("animus.mcp")

CATEGORIES = {
    ExitCode.INTERNAL: "internal",
    ExitCode.INVALID_INPUT: "invalid_input",
    ExitCode.NOT_FOUND: "not_found",
    ExitCode.CONFLICT: "conflict",
    ExitCode.UNAVAILABLE: "unavailable",
}


def schema_error(tool: str, exc: ValidationError) -> InvalidInputError:
    """Arguments that do not match the tool's input schema, field by field."""
    problems = [
        {
            "field": ".".join(str(part) for part in err["loc"]) or "(arguments)",
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]
    listed = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return InvalidInputError(
        f"invalid arguments for {tool}: {listed}",
        code="invalid_input",
        details={"stage": "schema", "errors": problems},
        hint=f"call {tool} with arguments matching its inputSchema (tools/list)",
    )


def as_error(tool: str, exc: BaseException) -> AnimusError:
    """Any failure of a tool as a typed error (a bug keeps its text off the wire)."""
    if isinstance(exc, AnimusError):
        return exc
    if isinstance(exc, ValidationError):
        return schema_error(tool, exc)
    _log.exception("tool %s failed unexpectedly", tool, exc_info=exc)
    return InternalError(
        f"{tool} failed unexpectedly: {type(exc).__name__}: {exc}",
        hint="this is a bug in Animus; the server log on stderr has the traceback",
    )


def error_envelope_of(err: AnimusError) -> dict[str, Any]:
    payload = err.to_payload()
    exit_code = err.exit_code if isinstance(err.exit_code, ExitCode) else ExitCode.INTERNAL
    error = {
        "category": CATEGORIES.get(exit_code, "internal"),
        "code": payload["code"],
        "message": payload["message"],
        "hint": err.hint,
        "exit_code": payload["exit_code"],
    }
    if "details" in payload:
        error["details"] = payload["details"]
    return {"schema": CLI_SCHEMA, "ok": False, "error": error}


def success_envelope_of(data: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = to_jsonable(success_envelope(data))
    return envelope


def dumps(envelope: dict[str, Any]) -> str:
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
