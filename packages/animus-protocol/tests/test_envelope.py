from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import Enum

import pytest
from pydantic import BaseModel

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
    success_envelope,
)


def test_exit_code_values() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 5]
    assert ExitCode.CONFLICT.name == "CONFLICT"


@pytest.mark.parametrize(
    ("cls", "code", "exit_code"),
    [
        (InternalError, "internal", 1),
        (InvalidInputError, "invalid_input", 2),
        (NotFoundError, "not_found", 3),
        (ConflictError, "conflict", 4),
        (UnavailableError, "unavailable", 5),
        (PermissionDeniedError, "permission_denied", 2),
        (NotSupportedError, "not_supported", 5),
    ],
)
def test_error_classes(cls: type[AnimusError], code: str, exit_code: int) -> None:
    err = cls("boom", details={"id": "TASK-001"}, hint="try again")
    assert isinstance(err, AnimusError)
    assert err.code == code
    assert err.exit_code == exit_code
    assert err.message == "boom"
    assert err.details == {"id": "TASK-001"}
    assert str(err) == "boom (hint: try again)"


def test_success_envelope_exact_and_compact() -> None:
    env = success_envelope({"id": "TASK-001", "n": 1})
    assert env == {"schema": CLI_SCHEMA, "ok": True, "data": {"id": "TASK-001", "n": 1}}
    assert dumps_envelope(env) == (
        '{"schema":"animus.cli.v1","ok":true,"data":{"id":"TASK-001","n":1}}'
    )


def test_error_envelope_omits_empty_details() -> None:
    line = dumps_envelope(error_envelope(NotFoundError("task TASK-9 not found")))
    assert line == (
        '{"schema":"animus.cli.v1","ok":false,"error":'
        '{"code":"not_found","message":"task TASK-9 not found","exit_code":3}}'
    )
    assert "\n" not in line


def test_error_envelope_keeps_details_and_hint() -> None:
    err = ConflictError("cannot move", details={"from": "done"}, hint="use --force")
    env = error_envelope(err)
    assert env["error"] == {
        "code": "conflict",
        "message": "cannot move",
        "exit_code": 4,
        "details": {"from": "done", "hint": "use --force"},
    }


class _Color(Enum):
    RED = "red"


class _Model(BaseModel):
    name: str
    note: str | None = None


def test_envelope_serialises_models_enums_datetimes() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    env = success_envelope({"m": _Model(name="x"), "c": _Color.RED, "t": when})
    assert json.loads(dumps_envelope(env))["data"] == {
        "m": {"name": "x"},
        "c": "red",
        "t": "2026-01-02T03:04:05.000000Z",
    }


def test_dumps_keeps_unicode() -> None:
    assert "é" in dumps_envelope(success_envelope("é"))


def test_error_round_trip_through_envelope() -> None:
    err = InvalidInputError("bad --status", details={"stage": "parse"}, hint="see --help")
    back = error_from_envelope(json.loads(dumps_envelope(error_envelope(err))))
    assert isinstance(back, InvalidInputError)
    assert back.code == "invalid_input"
    assert back.exit_code == ExitCode.INVALID_INPUT
    assert back.hint == "see --help"
    assert back.details["stage"] == "parse"
    assert error_from_envelope(success_envelope(1)) is None


def test_unknown_code_falls_back_to_exit_code() -> None:
    env = {
        "schema": CLI_SCHEMA,
        "ok": False,
        "error": {"code": "weird", "message": "m", "exit_code": 3},
    }
    back = error_from_envelope(env)
    assert isinstance(back, NotFoundError)
    assert back.code == "weird"


@pytest.mark.parametrize(
    "env",
    [
        {"schema": "ao.cli.v1", "ok": True, "data": 1},
        {"schema": CLI_SCHEMA, "ok": "yes"},
        {"schema": CLI_SCHEMA, "ok": False, "error": "oops"},
    ],
)
def test_malformed_envelope_rejected(env: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        error_from_envelope(env)


def test_dumps_converts_raw_values_and_refuses_unknown_objects() -> None:
    from pathlib import Path

    env = {
        "schema": CLI_SCHEMA,
        "ok": True,
        "data": {"p": Path("/a"), "s": {1}, "m": _Model(name="n")},
    }
    assert json.loads(dumps_envelope(env))["data"] == {"p": "/a", "s": [1], "m": {"name": "n"}}
    with pytest.raises(TypeError, match="object is not JSON serialisable"):
        dumps_envelope({"schema": CLI_SCHEMA, "ok": True, "data": object()})
