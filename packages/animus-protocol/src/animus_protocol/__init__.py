"""Animus domain models, status enums and transitions, the CLI envelope and exit codes, control-
socket models, repo scope and well-known paths.
"""

from __future__ import annotations

from importlib.metadata import version as _version

from animus_protocol.envelope import (
    CLI_SCHEMA,
    AnimusError,
    ConflictError,
    ExitCode,
    InternalError,
    InvalidInputError,
    NotFoundError,
    NotSupportedError,
    PermissionDeniedError,
    UnavailableError,
    dumps_envelope,
    error_envelope,
    error_from_envelope,
    error_from_payload,
    success_envelope,
    to_jsonable,
)
from animus_protocol.timeutil import (
    Timestamp,
    format_rfc3339,
    parse_duration,
    parse_rfc3339,
    to_utc,
    utc_now,
)

__version__ = _version("animus-protocol")

__all__ = [
    "CLI_SCHEMA",
    "AnimusError",
    "ConflictError",
    "ExitCode",
    "InternalError",
    "InvalidInputError",
    "NotFoundError",
    "NotSupportedError",
    "PermissionDeniedError",
    "Timestamp",
    "UnavailableError",
    "__version__",
    "dumps_envelope",
    "error_envelope",
    "error_from_envelope",
    "error_from_payload",
    "format_rfc3339",
    "parse_duration",
    "parse_rfc3339",
    "success_envelope",
    "to_jsonable",
    "to_utc",
    "utc_now",
]
