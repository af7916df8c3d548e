"""Control-socket error categories and their mapping to and from :class:`AnimusError`.

A control error is a JSON-RPC error whose ``data`` is ``{category, message, details?}``;
clients branch on the category. Each category has one JSON-RPC code (spec §7.7) and one
``AnimusError`` class, so an error raised in the daemon reaches the CLI with the same class,
code, exit code, details and hint it started with.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import Field

from animus_plugin_protocol import ErrorCode, RpcError
from animus_protocol._wire import WireRequest
from animus_protocol.envelope import (
    AnimusError,
    ConflictError,
    InternalError,
    InvalidInputError,
    NotFoundError,
    NotSupportedError,
    PermissionDeniedError,
    UnavailableError,
)

__all__ = [
    "CATEGORY_RPC_CODES",
    "ControlError",
    "ControlErrorCategory",
    "ControlErrorData",
    "animus_error_from_control",
    "animus_error_from_rpc",
    "category_for_error",
    "control_error_from_exception",
    "rpc_error_from_exception",
]


class ControlErrorCategory(StrEnum):
    NOT_FOUND = "not_found"
    INVALID_REQUEST = "invalid_request"
    PERMISSION_DENIED = "permission_denied"
    UNAVAILABLE = "unavailable"
    NOT_SUPPORTED = "not_supported"
    CONFLICT = "conflict"
    INTERNAL = "internal"


_C = ControlErrorCategory
CATEGORY_RPC_CODES: Mapping[ControlErrorCategory, int] = {
    _C.NOT_FOUND: int(ErrorCode.INVALID_PARAMS),  # -32602
    _C.INVALID_REQUEST: int(ErrorCode.INVALID_PARAMS),  # -32602
    _C.PERMISSION_DENIED: int(ErrorCode.INVALID_REQUEST),  # -32600
    _C.UNAVAILABLE: int(ErrorCode.INTERNAL_ERROR),  # -32603
    _C.NOT_SUPPORTED: int(ErrorCode.METHOD_NOT_SUPPORTED),  # -32001
    _C.CONFLICT: int(ErrorCode.INVALID_REQUEST),  # -32600
    _C.INTERNAL: int(ErrorCode.INTERNAL_ERROR),  # -32603
}

_CLASS_FOR: Mapping[ControlErrorCategory, type[AnimusError]] = {
    _C.NOT_FOUND: NotFoundError,
    _C.INVALID_REQUEST: InvalidInputError,
    _C.PERMISSION_DENIED: PermissionDeniedError,
    _C.UNAVAILABLE: UnavailableError,
    _C.NOT_SUPPORTED: NotSupportedError,
    _C.CONFLICT: ConflictError,
    _C.INTERNAL: InternalError,
}

# Categories other peers use for the same idea (plugin backends, older daemons).
_CATEGORY_SYNONYMS: Mapping[str, ControlErrorCategory] = {
    "invalid_input": _C.INVALID_REQUEST,
    "invalid_params": _C.INVALID_REQUEST,
    "unsupported": _C.NOT_SUPPORTED,
    "method_not_found": _C.NOT_SUPPORTED,
    "other": _C.INTERNAL,
    "timeout": _C.UNAVAILABLE,
    "cancelled": _C.UNAVAILABLE,
    "quota_exceeded": _C.UNAVAILABLE,
    "address_in_use": _C.CONFLICT,
    "plugin_not_initialized": _C.UNAVAILABLE,
}

# When ``data.category`` is missing, the JSON-RPC code is the only clue.
_CATEGORY_FOR_CODE: Mapping[int, ControlErrorCategory] = {
    int(ErrorCode.PARSE_ERROR): _C.INVALID_REQUEST,
    int(ErrorCode.INVALID_REQUEST): _C.INVALID_REQUEST,
    int(ErrorCode.METHOD_NOT_FOUND): _C.NOT_SUPPORTED,
    int(ErrorCode.INVALID_PARAMS): _C.INVALID_REQUEST,
    int(ErrorCode.INTERNAL_ERROR): _C.INTERNAL,
    int(ErrorCode.NOT_INITIALIZED): _C.UNAVAILABLE,
    int(ErrorCode.METHOD_NOT_SUPPORTED): _C.NOT_SUPPORTED,
    int(ErrorCode.REQUEST_CANCELLED): _C.UNAVAILABLE,
    int(ErrorCode.TIMEOUT): _C.UNAVAILABLE,
}


class ControlErrorData(WireRequest):
    category: ControlErrorCategory | str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ControlError(WireRequest):
    """The ``error`` member of a control-socket JSON-RPC error response."""

    code: int
    message: str
    data: ControlErrorData


def category_for_error(err: BaseException) -> ControlErrorCategory:
    """The control category an exception travels as (anything unknown is ``internal``)."""
    if isinstance(err, AnimusError):
        known = _parse_category(err.code)
        if known is not None:
            return known
        # An unfamiliar code: the class decides, refinements before their bases.
        order: list[ControlErrorCategory] = [_C.PERMISSION_DENIED, _C.NOT_SUPPORTED, *_C]
        for category in order:
            if isinstance(err, _CLASS_FOR[category]):
                return category
    return _C.INTERNAL


def _parse_category(value: object) -> ControlErrorCategory | None:
    if not isinstance(value, str):
        return None
    try:
        return ControlErrorCategory(value)
    except ValueError:
        return _CATEGORY_SYNONYMS.get(value)


def control_error_from_exception(err: BaseException) -> ControlError:
    """Encode ``err`` for the wire; non-Animus exceptions become ``internal``."""
    category = category_for_error(err)
    if isinstance(err, AnimusError):
        message = err.message
        details = dict(err.details)
        if err.hint and "hint" not in details:
            details["hint"] = err.hint
        if err.code != _CLASS_FOR[category].default_code:
            # Keep an unfamiliar code so the far side rebuilds the same error.
            details.setdefault("code", err.code)
    else:
        message = f"internal error: {type(err).__name__}: {err}"
        details = {}
    return ControlError(
        code=CATEGORY_RPC_CODES[category],
        message=message,
        data=ControlErrorData(category=category, message=message, details=details),
    )


def rpc_error_from_exception(err: BaseException) -> RpcError:
    """The same encoding as an ``RpcError`` for servers built on the plugin runtime."""
    wire = control_error_from_exception(err)
    return RpcError(wire.code, wire.message, data=wire.data.to_wire())


def animus_error_from_control(error: ControlError | Mapping[str, Any]) -> AnimusError:
    """Decode a control error (model or raw ``error`` object) into an :class:`AnimusError`.

    The category decides the class; without one the JSON-RPC code does. Details (and a hint
    inside them) are kept.
    """
    raw = error.to_wire() if isinstance(error, ControlError) else dict(error)
    data = raw.get("data")
    data = data if isinstance(data, Mapping) else {}
    category = _parse_category(data.get("category"))
    if category is None:
        code = raw.get("code")
        category = _CATEGORY_FOR_CODE.get(code, _C.INTERNAL) if isinstance(code, int) else None
        category = category or _C.INTERNAL
    message = data.get("message") or raw.get("message") or category.value
    raw_details = data.get("details")
    details = dict(raw_details) if isinstance(raw_details, Mapping) else {}
    code_override = details.pop("code", None)
    hint = details.get("hint")
    cls = _CLASS_FOR[category]
    return cls(
        str(message),
        details=details,
        hint=hint if isinstance(hint, str) else None,
        code=code_override if isinstance(code_override, str) else None,
    )


def animus_error_from_rpc(err: RpcError) -> AnimusError:
    """Decode an ``RpcError`` raised by the plugin runtime's client side."""
    return animus_error_from_control(err.to_error_object())
