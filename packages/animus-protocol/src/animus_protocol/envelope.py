"""The ``animus.cli.v1`` JSON envelope, typed exit codes and the error hierarchy.

Every failure that reaches a user is an :class:`AnimusError` carrying a stable ``code`` and
an :class:`ExitCode`; callers branch on the type or the code, never on the message text.

Success: ``{"schema":"animus.cli.v1","ok":true,"data":<T>}``.
Error: ``{"schema":"animus.cli.v1","ok":false,"error":{"code","message","exit_code","details"?}}``
with ``details`` omitted when empty. A hint (what to do next) travels as ``details.hint``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import Enum, IntEnum
from pathlib import PurePath
from typing import Any, ClassVar

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
    "UnavailableError",
    "dumps_envelope",
    "error_envelope",
    "error_from_envelope",
    "error_from_payload",
    "success_envelope",
    "to_jsonable",
]

CLI_SCHEMA = "animus.cli.v1"


class ExitCode(IntEnum):
    """Process exit codes (spec §3.3); typed, never derived from message text."""

    SUCCESS = 0
    INTERNAL = 1
    INVALID_INPUT = 2
    NOT_FOUND = 3
    CONFLICT = 4
    UNAVAILABLE = 5


class AnimusError(Exception):
    """Base of every error Animus reports to a user or a peer.

    ``code`` is the stable machine string of the envelope, ``exit_code`` the process exit
    status, ``details`` structured context (JSON-serialisable) and ``hint`` one sentence
    telling the user what to do about it.
    """

    default_code: ClassVar[str] = "internal"
    default_exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL

    code: str
    exit_code: ExitCode
    message: str
    details: dict[str, Any]
    hint: str | None

    def __init__(
        self,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        hint: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})
        self.hint = hint
        self.code = code or self.default_code
        self.exit_code = self.default_exit_code

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (hint: {self.hint})"
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def to_payload(self) -> dict[str, Any]:
        """The ``error`` object of the envelope (``details`` omitted when empty)."""
        payload: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "exit_code": int(self.exit_code),
        }
        details = dict(self.details)
        if self.hint and "hint" not in details:
            details["hint"] = self.hint
        if details:
            payload["details"] = to_jsonable(details)
        return payload


class InternalError(AnimusError):
    """Unclassified failure, a bug or a serialisation error (exit 1)."""

    default_code = "internal"
    default_exit_code = ExitCode.INTERNAL


class InvalidInputError(AnimusError):
    """Bad arguments or values (exit 2)."""

    default_code = "invalid_input"
    default_exit_code = ExitCode.INVALID_INPUT


class NotFoundError(AnimusError):
    """A named resource does not exist (exit 3)."""

    default_code = "not_found"
    default_exit_code = ExitCode.NOT_FOUND


class ConflictError(AnimusError):
    """The request conflicts with current state, e.g. a disallowed transition (exit 4)."""

    default_code = "conflict"
    default_exit_code = ExitCode.CONFLICT


class UnavailableError(AnimusError):
    """A daemon, plugin or network peer cannot be reached (exit 5)."""

    default_code = "unavailable"
    default_exit_code = ExitCode.UNAVAILABLE


class PermissionDeniedError(InvalidInputError):
    """The caller's principal may not do this (control category ``permission_denied``).

    A refinement of invalid input: the request is well formed but not allowed for whoever
    sent it, so it exits 2 like other caller-side errors.
    """

    default_code = "permission_denied"


class NotSupportedError(UnavailableError):
    """The peer knows the operation but does not implement it (control ``not_supported``).

    A refinement of unavailable (exit 5): callers typically fall back to a local path.
    """

    default_code = "not_supported"


_BY_CODE: dict[str, type[AnimusError]] = {
    "internal": InternalError,
    "invalid_input": InvalidInputError,
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "unavailable": UnavailableError,
    "permission_denied": PermissionDeniedError,
    "not_supported": NotSupportedError,
}

_BY_EXIT: dict[int, type[AnimusError]] = {
    int(ExitCode.INTERNAL): InternalError,
    int(ExitCode.INVALID_INPUT): InvalidInputError,
    int(ExitCode.NOT_FOUND): NotFoundError,
    int(ExitCode.CONFLICT): ConflictError,
    int(ExitCode.UNAVAILABLE): UnavailableError,
}


def to_jsonable(value: Any) -> Any:
    """Convert models, enums, datetimes and paths to plain JSON values (recursively).

    Pydantic models dump in JSON mode by alias with absent optionals omitted, the way the
    original's serializers skip ``None``.
    """
    # Duck-typed pydantic check: importing pydantic here would cost every CLI error path
    # ~150 ms of start-up for a module that otherwise needs only the standard library.
    dump = getattr(value, "model_dump", None)
    if callable(dump) and hasattr(type(value), "model_fields"):
        return dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        # Imported here: timeutil raises InvalidInputError, so it imports this module.
        from animus_protocol.timeutil import format_rfc3339

        return format_rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    return value


def success_envelope(data: Any) -> dict[str, Any]:
    """``{"schema":"animus.cli.v1","ok":true,"data":...}``."""
    return {"schema": CLI_SCHEMA, "ok": True, "data": to_jsonable(data)}


def error_envelope(err: AnimusError) -> dict[str, Any]:
    """``{"schema":"animus.cli.v1","ok":false,"error":{code,message,exit_code,details?}}``."""
    return {"schema": CLI_SCHEMA, "ok": False, "error": err.to_payload()}


def _json_default(value: Any) -> Any:
    converted = to_jsonable(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return converted


def dumps_envelope(env: Mapping[str, Any]) -> str:
    """Compact single-line JSON (no spaces after separators, UTF-8 kept as is).

    Values the envelope builders already converted pass straight through; anything else
    (a model, datetime, path) is converted on the way out rather than by a second walk.
    """
    return json.dumps(env, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def error_from_payload(payload: Mapping[str, Any]) -> AnimusError:
    """Rebuild an :class:`AnimusError` from an envelope's ``error`` object.

    The class follows ``code`` when known, else ``exit_code``; unknown codes are kept
    verbatim so nothing a peer said is lost.
    """
    code = str(payload.get("code") or "internal")
    message = str(payload.get("message") or "")
    raw_details = payload.get("details")
    details = dict(raw_details) if isinstance(raw_details, Mapping) else {}
    hint = details.get("hint")
    cls = _BY_CODE.get(code)
    if cls is None:
        exit_code = payload.get("exit_code")
        cls = _BY_EXIT.get(exit_code, InternalError) if isinstance(exit_code, int) else None
        cls = cls or InternalError
    return cls(
        message,
        details=details,
        hint=hint if isinstance(hint, str) else None,
        code=code,
    )


def error_from_envelope(env: Mapping[str, Any]) -> AnimusError | None:
    """The error of a failed envelope, ``None`` for a success envelope.

    Raises :class:`InvalidInputError` when ``env`` is not an ``animus.cli.v1`` envelope.
    """
    if env.get("schema") != CLI_SCHEMA or not isinstance(env.get("ok"), bool):
        raise InvalidInputError(
            f"not an {CLI_SCHEMA} envelope",
            details={"schema": env.get("schema")},
        )
    if env["ok"]:
        return None
    error = env.get("error")
    if not isinstance(error, Mapping):
        raise InvalidInputError("error envelope without an 'error' object")
    return error_from_payload(error)
