"""``service/call``: the service-hub calls a front end may make through the daemon.

An Animus-Python extension of the control method set. When a daemon is up, the ``animus``
command sends its service calls (``tasks.create``, ``queue.list``, ...) over the control socket
and the daemon runs the very same service methods in its own process, so both modes give the
same results by construction. Both ends share what is here:

* :data:`SERVICE_CALLS`, the explicit allowlist ``{service: {method, ...}}`` (anything else is
  refused), and :data:`READ_ONLY_SERVICE_CALLS`, the subset safe to retry in process;
* a tagged codec (:func:`encode_value` / :func:`decode_value`) for arguments and results:
  pydantic models and dataclasses travel with their class name, and only classes of Animus
  modules are ever rebuilt (anything else is refused, never imported blindly);
* the params and result models of the method.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import re
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel, Field

from animus_protocol._wire import WireRequest
from animus_protocol.envelope import AnimusError, ExitCode, InvalidInputError, NotSupportedError

__all__ = [
    "MODEL_MODULE_PREFIXES",
    "READ_ONLY_SERVICE_CALLS",
    "SERVICE_CALLS",
    "SERVICE_CALL_METHOD",
    "ServiceCallParams",
    "ServiceCallResult",
    "check_service_call",
    "decode_value",
    "encode_value",
    "is_read_only_call",
    "mark_service_error",
    "raised_by_service",
    "restore_service_error",
]

SERVICE_CALL_METHOD = "service/call"

_TASKS_READ = {
    "get",
    "list",
    "exists",
    "count_by_status",
    "unmet_dependencies",
    "next",
    "dependents",
}
_TASKS_WRITE = {
    "create",
    "update",
    "delete",
    "set_status",
    "reopen",
    "pause",
    "resume",
    "block",
    "add_dependency",
    "remove_dependency",
    "comment",
    "checklist_add",
    "checklist_update",
    "assign",
    "set_priority",
    "set_deadline",
}
_REQUIREMENTS_READ = {"get", "list", "count_by_status"}
_REQUIREMENTS_WRITE = {
    "create",
    "update",
    "comment",
    "delete",
    "transition",
    "set_status",
    "materialize",
}
_QUEUE_READ = {"get", "list", "stats", "default_workflow_ref"}
_QUEUE_WRITE = {
    "enqueue",
    "enqueue_subject",
    "enqueue_custom",
    "hold",
    "release",
    "drop",
    "reorder",
}
_RUNS_READ = {"get", "exists", "list", "describe", "decisions", "checkpoints", "checkpoint"}
_RUNS_WRITE = {"prune_checkpoints", "prune", "delete"}
_HISTORY_READ = {"get", "for_task", "recent", "search"}
_ERRORS_READ = {"get", "list", "stats"}

READ_ONLY_SERVICE_CALLS: Mapping[str, frozenset[str]] = {
    "tasks": frozenset(_TASKS_READ),
    "requirements": frozenset(_REQUIREMENTS_READ),
    "queue": frozenset(_QUEUE_READ),
    "runs": frozenset(_RUNS_READ),
    "history": frozenset(_HISTORY_READ),
    "errors": frozenset(_ERRORS_READ),
    "status": frozenset({"report"}),
}
"""Calls that change nothing: a client may repeat one in process when the socket fails."""

SERVICE_CALLS: Mapping[str, frozenset[str]] = {
    "tasks": frozenset(_TASKS_READ | _TASKS_WRITE),
    "requirements": frozenset(_REQUIREMENTS_READ | _REQUIREMENTS_WRITE),
    "queue": frozenset(_QUEUE_READ | _QUEUE_WRITE),
    "runs": frozenset(_RUNS_READ | _RUNS_WRITE),
    "history": frozenset(_HISTORY_READ | {"cleanup"}),
    "errors": frozenset(_ERRORS_READ | {"cleanup", "resolve"}),
    "status": READ_ONLY_SERVICE_CALLS["status"],
}
"""Every service hub method that may be called over the socket (arguments and results are
values :func:`encode_value` handles). Lease, complete and other dispatch internals are absent
on purpose: only the daemon itself drives them."""

MODEL_MODULE_PREFIXES: tuple[str, ...] = (
    "animus_protocol.",
    "animus_core.",
    "animus_plugin_protocol.",
)
"""Where a ``$model`` / ``$dataclass`` / ``$enum`` class may come from (nothing else is
imported on decode)."""

_CLASS_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_.]*$")


class ServiceCallParams(WireRequest):
    """``service/call`` params: ``hub.<service>.<method>(*args, **kwargs)``, encoded."""

    service: str
    method: str
    args: list[Any] = Field(default_factory=list)
    # ``kwargs`` on the wire; renamed here because pydantic's generated ``__init__`` already
    # takes ``**kwargs``.
    keywords: dict[str, Any] = Field(default_factory=dict, alias="kwargs")


class ServiceCallResult(WireRequest):
    """``service/call`` result: the method's return value, encoded."""

    value: Any = None


def check_service_call(service: str, method: str) -> None:
    """Raise :class:`NotSupportedError` naming the call unless it is allowlisted."""
    methods = SERVICE_CALLS.get(service)
    if methods is None:
        raise NotSupportedError(
            f"unknown service {service!r} for {SERVICE_CALL_METHOD}",
            details={"service": service, "services": sorted(SERVICE_CALLS)},
            hint="only the services the CLI uses are served over the socket",
        )
    if method not in methods:
        raise NotSupportedError(
            f"method {service}.{method} is not served over the control socket",
            details={"service": service, "method": method},
            hint=f"callable {service} methods: {', '.join(sorted(methods))}",
        )


def is_read_only_call(service: str, method: str) -> bool:
    return method in READ_ONLY_SERVICE_CALLS.get(service, frozenset())


# -- errors ----------------------------------------------------------------------------------

_EXIT_CODE_DETAIL = "$exit_code"


def mark_service_error(err: AnimusError) -> AnimusError:
    """Server side: keep ``err``'s exit code in its details for the trip over the socket.

    The control error keeps the category, code, message, details and hint; the exit code of
    an error class outside the seven known ones would otherwise be lost.
    """
    err.details = {**err.details, _EXIT_CODE_DETAIL: int(err.exit_code)}
    return err


def raised_by_service(err: AnimusError) -> bool:
    """Whether a decoded control error came from the service method itself (it ran), as
    opposed to the call being refused before it ran (allowlist, arguments)."""
    return _EXIT_CODE_DETAIL in err.details


def restore_service_error(err: AnimusError) -> AnimusError:
    """Client side: the decoded control error as the service raised it (exit code back in
    place, the transport detail removed)."""
    raw = err.details.pop(_EXIT_CODE_DETAIL, None)
    if isinstance(raw, int) and not isinstance(raw, bool):
        with contextlib.suppress(ValueError):
            err.exit_code = ExitCode(raw)
    return err


# -- the codec -------------------------------------------------------------------------------


def _class_ref(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def encode_value(value: Any) -> Any:
    """A JSON value for ``value`` that :func:`decode_value` turns back into an equal one.

    Raises :class:`InvalidInputError` for a value with no wire form (a function, a socket).
    """
    if isinstance(value, Enum):  # first: a StrEnum member is a str too
        return {"$enum": _class_ref(type(value)), "value": encode_value(value.value)}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, BaseModel):
        return {
            "$model": _class_ref(type(value)),
            "data": value.model_dump(mode="json", by_alias=True),
        }
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v) for v in value]}
    if isinstance(value, set | frozenset):
        return {"$set": [encode_value(v) for v in value]}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode_value(v) for k, v in value.items()}
        return {"$dict": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, PurePath):
        return {"$path": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "$dataclass": _class_ref(type(value)),
            "data": {
                f.name: encode_value(getattr(value, f.name)) for f in dataclasses.fields(value)
            },
        }
    raise InvalidInputError(
        f"a {type(value).__name__} cannot travel over the control socket",
        details={"type": f"{type(value).__module__}.{type(value).__qualname__}"},
    )


def _refused(ref: Any, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"refused class {ref!r} in a service call: {why}",
        details={"class": str(ref)},
        hint="only Animus models (animus_protocol, animus_core, ...) travel over the socket",
    )


def _resolve_class(ref: Any) -> type:
    if not isinstance(ref, str) or not _CLASS_REF.match(ref):
        raise _refused(ref, "not a 'module:QualName' reference")
    module_name, _, qualname = ref.partition(":")
    if not module_name.startswith(MODEL_MODULE_PREFIXES):
        raise _refused(ref, "not from an Animus module")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        raise _refused(ref, "no such class") from None
    if not isinstance(target, type) or not str(target.__module__).startswith(MODEL_MODULE_PREFIXES):
        raise _refused(ref, "not a class defined in an Animus module")
    return target


def _items(raw: Any, tag: str) -> list[Any]:
    if not isinstance(raw, list):
        raise InvalidInputError(f"malformed {tag} value: expected a list")
    return [decode_value(v) for v in raw]


def decode_value(value: Any) -> Any:
    """The value :func:`encode_value` encoded (raises :class:`InvalidInputError` on a
    malformed or refused value)."""
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    tags = [k for k in value if k.startswith("$")]
    if not tags:
        return {k: decode_value(v) for k, v in value.items()}
    tag = tags[0]
    raw = value[tag]
    if tag == "$model":
        cls = _resolve_class(raw)
        if not issubclass(cls, BaseModel):
            raise _refused(raw, "not a pydantic model")
        from pydantic import ValidationError

        try:
            return cls.model_validate(value.get("data"))
        except ValidationError as exc:
            raise InvalidInputError(
                f"invalid {cls.__qualname__} in a service call: {exc.error_count()} error(s)",
                details={"class": raw},
            ) from None
    if tag == "$dataclass":
        cls = _resolve_class(raw)
        data = value.get("data")
        if not dataclasses.is_dataclass(cls) or not isinstance(data, dict):
            raise _refused(raw, "not a dataclass with a field mapping")
        try:
            return cls(**{str(k): decode_value(v) for k, v in data.items()})
        except TypeError as exc:
            raise InvalidInputError(f"invalid {cls.__qualname__}: {exc}") from None
    if tag == "$enum":
        cls = _resolve_class(raw)
        if not issubclass(cls, Enum):
            raise _refused(raw, "not an enum")
        try:
            return cls(decode_value(value.get("value")))
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from None
    if tag == "$tuple":
        return tuple(_items(raw, tag))
    if tag == "$set":
        return set(_items(raw, tag))
    if tag == "$dict":
        pairs = _items(raw, tag)
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise InvalidInputError("malformed $dict value: expected [key, value] pairs")
        return {_hashable(p[0]): p[1] for p in pairs}
    if tag in ("$datetime", "$date") and isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw) if tag == "$datetime" else date.fromisoformat(raw)
        except ValueError as exc:
            raise InvalidInputError(f"malformed {tag} value: {exc}") from None
    if tag == "$path" and isinstance(raw, str):
        return Path(raw)
    raise InvalidInputError(f"unknown or malformed tagged value {tag!r} in a service call")


def _hashable(key: Any) -> Any:
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    try:
        hash(key)
    except TypeError:
        raise InvalidInputError("malformed $dict value: a key is not hashable") from None
    return key
