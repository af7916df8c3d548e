"""JSON-RPC 2.0 envelopes and the classifier that tells them apart."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, StrictInt, StrictStr, ValidationError

from ._errors import RpcError
from ._wire import WireModel

__all__ = [
    "ErrorObject",
    "ErrorResponse",
    "InvalidMessage",
    "Message",
    "Notification",
    "Request",
    "RequestId",
    "SuccessResponse",
    "parse_message",
]

RequestId = StrictInt | StrictStr
"""Requests carry a number or a string id (hosts use integers); never a bool or a float."""


class InvalidMessage(ValueError):
    """A decoded JSON value is not a JSON-RPC 2.0 message; the text says why."""


class Request(WireModel):
    jsonrpc: Literal["2.0"] = "2.0"
    id: RequestId
    method: str
    params: Any = None


class Notification(WireModel):
    jsonrpc: Literal["2.0"] = "2.0"
    method: str
    params: Any = None


class ErrorObject(WireModel):
    code: StrictInt
    message: str
    data: Any = None

    def to_rpc_error(self) -> RpcError:
        return RpcError.from_error_object(self)


class SuccessResponse(WireModel):
    always_write: ClassVar[frozenset[str]] = frozenset({"id", "result"})

    jsonrpc: Literal["2.0"] = "2.0"
    id: RequestId | None
    result: Any = Field(...)


class ErrorResponse(WireModel):
    always_write: ClassVar[frozenset[str]] = frozenset({"id"})

    jsonrpc: Literal["2.0"] = "2.0"
    id: RequestId | None
    error: ErrorObject

    @classmethod
    def from_rpc_error(cls, request_id: int | str | None, error: RpcError) -> ErrorResponse:
        return cls(id=request_id, error=ErrorObject.model_validate(error.to_error_object()))


Message = Request | Notification | SuccessResponse | ErrorResponse


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "message"
    return f"{where}: {first['msg']}"


def parse_message(obj: object) -> Message:
    """Classify a decoded frame; raise `InvalidMessage` naming the problem."""
    if not isinstance(obj, dict):
        raise InvalidMessage(f"a JSON-RPC message must be an object, got {type(obj).__name__}")
    if obj.get("jsonrpc") != "2.0":
        raise InvalidMessage(f"'jsonrpc' must be \"2.0\", got {obj.get('jsonrpc')!r}")
    model: type[WireModel]
    if "method" in obj:
        if not isinstance(obj["method"], str):
            raise InvalidMessage("'method' must be a string")
        model = Request if "id" in obj else Notification
    elif "result" in obj and "error" in obj:
        raise InvalidMessage("a response carries exactly one of 'result' and 'error'")
    elif "result" in obj:
        model = SuccessResponse
    elif "error" in obj:
        model = ErrorResponse
    else:
        raise InvalidMessage("neither a request, a notification nor a response")
    if model is not Notification:
        if "id" not in obj:
            raise InvalidMessage("a response needs an 'id'")
        ident = obj["id"]
        id_ok = isinstance(ident, (int, str)) and not isinstance(ident, bool)
        if not id_ok and not (ident is None and model is not Request):
            raise InvalidMessage(f"'id' must be a number or a string, got {ident!r}")
    try:
        message = model.model_validate(obj)
    except ValidationError as exc:
        raise InvalidMessage(f"invalid {model.__name__}: {_describe(exc)}") from None
    assert isinstance(message, (Request, Notification, SuccessResponse, ErrorResponse))
    return message
