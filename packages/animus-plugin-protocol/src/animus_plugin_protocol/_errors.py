"""JSON-RPC error codes used by Animus plugins and the exception that carries them."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

__all__ = ["ErrorCode", "RpcError"]


class ErrorCode(IntEnum):
    """The shared codes (reference §1.4). Per-kind private ranges live in the kind modules."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    NOT_INITIALIZED = -32000
    METHOD_NOT_SUPPORTED = -32001
    REQUEST_CANCELLED = -32002
    TIMEOUT = -32003


class RpcError(Exception):
    """A JSON-RPC error: raise it from a handler and the runtime answers with exactly it.

    ``category`` travels as ``error.data.category`` (hosts branch on it).
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        category: str | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message
        if category is None and isinstance(data, dict):
            found = data.get("category")
            category = found if isinstance(found, str) else None
        self.category = category
        self.data = data

    def __repr__(self) -> str:
        return f"RpcError(code={self.code}, message={self.message!r}, category={self.category!r})"

    def error_data(self) -> Any:
        """The ``data`` member to send: caller data with the category merged in."""
        if self.category is None:
            return self.data
        if self.data is None:
            return {"category": self.category}
        if isinstance(self.data, dict):
            return {**self.data, "category": self.category}
        return {"category": self.category, "details": self.data}

    def to_error_object(self) -> dict[str, Any]:
        """The ``error`` member of an error response, as a plain dict."""
        obj: dict[str, Any] = {"code": self.code, "message": self.message}
        data = self.error_data()
        if data is not None:
            obj["data"] = data
        return obj

    @classmethod
    def from_error_object(cls, error: Any) -> RpcError:
        """Rebuild from an ``error`` member (a dict or an `ErrorObject`); tolerant of junk."""
        if hasattr(error, "model_dump"):
            error = error.model_dump(mode="json", exclude_none=True)
        if not isinstance(error, dict):
            return cls(ErrorCode.INTERNAL_ERROR, f"malformed error object: {error!r}")
        code = error.get("code")
        message = error.get("message")
        if not isinstance(code, int) or isinstance(code, bool):
            code = ErrorCode.INTERNAL_ERROR
        if not isinstance(message, str):
            message = str(message)
        return cls(code, message, data=error.get("data"))

    # Constructors for the common cases, so handlers read like the spec.

    @classmethod
    def invalid_params(cls, message: str, *, category: str = "invalid_request") -> RpcError:
        return cls(ErrorCode.INVALID_PARAMS, message, category=category)

    @classmethod
    def not_found(cls, message: str) -> RpcError:
        return cls(ErrorCode.INVALID_PARAMS, message, category="not_found")

    @classmethod
    def method_not_found(cls, method: str, plugin: str) -> RpcError:
        return cls(
            ErrorCode.METHOD_NOT_FOUND,
            f"method '{method}' not implemented by {plugin}",
            category="not_supported",
        )

    @classmethod
    def not_supported(cls, message: str, *, category: str = "not_supported") -> RpcError:
        return cls(ErrorCode.METHOD_NOT_SUPPORTED, message, category=category)

    @classmethod
    def not_initialized(cls) -> RpcError:
        return cls(
            ErrorCode.NOT_INITIALIZED,
            "plugin not initialized: send 'initialize' first",
            category="plugin_not_initialized",
        )

    @classmethod
    def cancelled(cls, message: str = "request cancelled") -> RpcError:
        return cls(ErrorCode.REQUEST_CANCELLED, message, category="cancelled")

    @classmethod
    def timeout(cls, message: str) -> RpcError:
        return cls(ErrorCode.TIMEOUT, message, category="timeout")

    @classmethod
    def internal(cls, message: str, *, category: str = "other") -> RpcError:
        return cls(ErrorCode.INTERNAL_ERROR, message, category=category)
