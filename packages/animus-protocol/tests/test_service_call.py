"""``service/call``: the allowlist, the tagged value codec and error fidelity."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol import Subject
from animus_protocol.control import (
    CONTROL_METHOD_SPECS,
    READ_METHODS,
    READ_ONLY_SERVICE_CALLS,
    SERVICE_CALL_METHOD,
    SERVICE_CALLS,
    ServiceCallParams,
    ServiceCallResult,
    animus_error_from_control,
    check_service_call,
    control_error_from_exception,
    decode_value,
    encode_value,
    is_read_only_call,
    mark_service_error,
    parse_control_params,
    parse_control_result,
    raised_by_service,
    restore_service_error,
)
from animus_protocol.envelope import (
    AnimusError,
    ConflictError,
    ExitCode,
    InvalidInputError,
    NotFoundError,
    NotSupportedError,
)
from animus_protocol.requirement import Requirement, RequirementsExecutionResult
from animus_protocol.subjects import SubjectDispatch, SubjectRef
from animus_protocol.task import Task, TaskStatus
from animus_protocol.workflow import WorkflowRun, WorkflowStatus


def _wire_trip(value: Any) -> Any:
    """Encode, go through real JSON text (as on the socket), decode."""
    return decode_value(json.loads(json.dumps(encode_value(value))))


def test_the_method_is_in_the_table_and_not_read_only_as_a_whole() -> None:
    spec = CONTROL_METHOD_SPECS[SERVICE_CALL_METHOD]
    assert spec.params is ServiceCallParams
    assert spec.result is ServiceCallResult
    assert SERVICE_CALL_METHOD not in READ_METHODS
    parsed = parse_control_params(
        SERVICE_CALL_METHOD, {"service": "tasks", "method": "get", "args": ["TASK-001"]}
    )
    assert isinstance(parsed, ServiceCallParams)
    assert (parsed.args, parsed.keywords) == (["TASK-001"], {})
    assert parse_control_result(SERVICE_CALL_METHOD, {"value": [1]}).value == [1]


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"method": "get"}, "service"),
        ({"service": "tasks", "method": "get", "args": "TASK-1"}, "args"),
        ({"service": "tasks", "method": "get", "kwargs": [1]}, "kwargs"),
    ],
)
def test_malformed_params_name_the_field(params: dict[str, Any], complaint: str) -> None:
    with pytest.raises(InvalidInputError, match=complaint):
        parse_control_params(SERVICE_CALL_METHOD, params)


def test_allowlist_shape_and_read_only_subset() -> None:
    for service, methods in READ_ONLY_SERVICE_CALLS.items():
        assert methods <= SERVICE_CALLS[service], service
    assert is_read_only_call("tasks", "list")
    assert not is_read_only_call("tasks", "create")
    assert not is_read_only_call("queue", "enqueue_subject")
    assert not is_read_only_call("nope", "list")
    # Dispatch internals are never callable from outside the daemon.
    for internal in ("lease", "complete", "mark_assigned", "release_pending"):
        assert internal not in SERVICE_CALLS["queue"]
    assert "save" not in SERVICE_CALLS["runs"]


def test_unknown_service_and_method_are_refused_by_name() -> None:
    with pytest.raises(NotSupportedError, match="unknown service 'db'") as svc:
        check_service_call("db", "execute")
    assert svc.value.details["service"] == "db"
    with pytest.raises(NotSupportedError, match=r"tasks\.close") as meth:
        check_service_call("tasks", "close")
    assert not raised_by_service(meth.value)  # refused before running
    assert meth.value.details == {"service": "tasks", "method": "close"}
    check_service_call("queue", "stats")  # allowed: no error


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -3,
        2.5,
        "text with $dollar",
        [1, "a", None],
        ("a", "b"),
        (),
        {"a": 1, "b": [1, 2]},
        {"$not-a-tag": 1, "x": 2},
        {1: "one", (2, 3): "pair"},
        {"nested": {"tuple": (1, (2,)), "set": {"x"}}},
        datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        date(2026, 1, 2),
        Path("/tmp/run/dir"),
        TaskStatus.IN_PROGRESS,
        WorkflowStatus.COMPLETED,
    ],
)
def test_plain_values_round_trip(value: Any) -> None:
    back = _wire_trip(value)
    assert back == value
    assert type(back) is type(value)


def test_protocol_models_round_trip_equal() -> None:
    task = Task(id="TASK-007", title="t", tags=["a"], status=TaskStatus.BLOCKED)
    task.blocked_reason = "waits"
    requirement = Requirement(id="REQ-001", title="r")
    run = WorkflowRun(id="wf-1", subject=SubjectRef(kind="task", id="TASK-007"), vars={"k": "v"})
    dispatch = SubjectDispatch(
        subject=SubjectRef(kind="custom", title="adhoc"),
        workflow_ref="standard",
        input={"n": [1, 2]},
        vars={"a": "b"},
    )
    executed = RequirementsExecutionResult()
    subject = Subject.model_validate(
        {
            "id": "TASK-007",
            "kind": "task",
            "title": "t",
            "status": "blocked",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-02T00:00:00Z",
            "custom": {"priority": "high"},
        }
    )
    for model in (task, requirement, run, dispatch, executed, subject):
        back = _wire_trip(model)
        assert type(back) is type(model)
        assert back == model
    # Models inside containers keep their class too.
    page = _wire_trip({"items": [task, task], "total": 2})
    assert page["items"] == [task, task]


def test_none_fields_survive_the_trip() -> None:
    # An explicit None (not omitted) must come back None, not the field's default.
    run = WorkflowRun(id="wf-2", subject=SubjectRef(kind="task", id="TASK-1"), workflow_ref=None)
    encoded = encode_value(run)
    assert encoded["data"]["workflow_ref"] is None
    assert decode_value(encoded).workflow_ref is None


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ({"$model": "os:system", "data": {}}, "not from an Animus module"),
        ({"$model": "builtins:dict", "data": {}}, "not from an Animus module"),
        ({"$model": "pydantic:BaseModel", "data": {}}, "not from an Animus module"),
        # Found through an Animus module but defined elsewhere: refused all the same.
        ({"$model": "animus_protocol._wire:BaseModel", "data": {}}, "not a class defined"),
        ({"$model": "animus_protocol.envelope:AnimusError", "data": {}}, "not a pydantic model"),
        ({"$model": "animus_protocol.task:NoSuchModel", "data": {}}, "no such class"),
        ({"$model": "animus_protocol.no_such_module:X", "data": {}}, "no such class"),
        ({"$model": "animus_protocol.task", "data": {}}, "module:QualName"),
        ({"$model": ["animus_protocol.task:Task"], "data": {}}, "module:QualName"),
        ({"$model": "../../etc:passwd", "data": {}}, "module:QualName"),
        ({"$dataclass": "animus_protocol.task:Task", "data": {}}, "not a dataclass"),
        ({"$enum": "animus_protocol.task:Task", "value": "x"}, "not an enum"),
    ],
)
def test_refused_classes_name_the_problem(payload: dict[str, Any], why: str) -> None:
    with pytest.raises(InvalidInputError, match="refused class") as err:
        decode_value({"wrapped": [payload]})
    assert why in err.value.message
    assert err.value.hint is not None


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        ({"$model": "animus_protocol.task:Task", "data": {"id": 5}}, "invalid Task"),
        ({"$enum": "animus_protocol.task:TaskStatus", "value": "nope"}, "nope"),
        ({"$tuple": "abc"}, "expected a list"),
        ({"$dict": [[1]]}, "pairs"),
        ({"$dict": [[{"a": 1}, 2]]}, "not hashable"),
        ({"$datetime": "yesterday"}, "malformed $datetime"),
        ({"$path": 3}, "unknown or malformed"),
        ({"$eval": "1+1"}, "unknown or malformed tagged value '$eval'"),
    ],
)
def test_malformed_tagged_values_are_clear_errors(payload: dict[str, Any], complaint: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        decode_value(payload)
    assert complaint in err.value.message


def test_values_without_a_wire_form_are_refused_on_encode() -> None:
    with pytest.raises(InvalidInputError, match="function cannot travel"):
        encode_value({"callback": lambda: None})
    with pytest.raises(InvalidInputError, match="object cannot travel"):
        encode_value([object()])


class _OddExit(ConflictError):
    """A service error whose exit code is not its category's."""

    default_code = "odd_conflict"
    default_exit_code = ExitCode.UNAVAILABLE


@pytest.mark.parametrize(
    "err",
    [
        NotFoundError("task TASK-9 not found", details={"task_id": "TASK-9"}, hint="list them"),
        ConflictError("bad transition", details={"from": "done"}, code="invalid_transition"),
        InvalidInputError("bad --priority", hint="critical, high, medium or low"),
        _OddExit("odd", details={"exit_code": 7}),  # a detail named exit_code is kept apart
    ],
)
def test_service_errors_cross_the_wire_with_payload_and_exit_code(err: AnimusError) -> None:
    expected = err.to_payload()
    wire = json.loads(json.dumps(control_error_from_exception(mark_service_error(err)).to_wire()))
    decoded = animus_error_from_control(wire)
    assert raised_by_service(decoded)
    back = restore_service_error(decoded)
    assert back.to_payload() == expected
    assert back.exit_code == err.exit_code
    assert "$exit_code" not in back.details


def test_restore_ignores_a_missing_or_bogus_exit_code() -> None:
    plain = restore_service_error(NotFoundError("x", details={"$exit_code": "3"}))
    assert plain.exit_code == ExitCode.NOT_FOUND
    odd = restore_service_error(NotFoundError("x", details={"$exit_code": 99}))
    assert odd.exit_code == ExitCode.NOT_FOUND
