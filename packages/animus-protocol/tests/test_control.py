from __future__ import annotations

import json
from typing import Any

import pytest

from animus_plugin_protocol import RpcError, Subject, SubjectChangedEvent
from animus_protocol import (
    AnimusError,
    ConflictError,
    ExitCode,
    InternalError,
    InvalidInputError,
    NotFoundError,
    NotSupportedError,
    PermissionDeniedError,
    UnavailableError,
    WorkflowEvent,
)
from animus_protocol.control import (
    CATEGORY_RPC_CODES,
    CONTROL_METHOD_SPECS,
    CONTROL_METHODS,
    CONTROL_NOTIFICATIONS,
    READ_METHODS,
    STREAM_METHODS,
    STREAM_NOTIFICATIONS,
    ControlError,
    ControlErrorCategory,
    ControlQueueStats,
    DaemonRunEvent,
    DaemonStatusResponse,
    QueueEnqueueRequest,
    StreamNotification,
    SubjectListParams,
    SubscriptionClosed,
    WorkflowStarted,
    animus_error_from_control,
    animus_error_from_rpc,
    category_for_error,
    control_error_from_exception,
    parse_control_params,
    parse_control_result,
    parse_stream_item,
    rpc_error_from_exception,
)

# The method table of plugin-protocol.md §3 / spec §7.7, plus daemon-local methods.
SPEC_METHODS = {
    *(f"subject/{v}" for v in ("list", "get", "create", "update", "next", "status", "watch")),
    *(
        f"plugin/{v}"
        for v in (
            "list",
            "info",
            "install",
            "uninstall",
            "ping",
            "call",
            "search",
            "browse",
            "update",
        )
    ),
    *(
        f"daemon/{v}"
        for v in ("status", "health", "start", "stop", "restart", "agents", "events", "logs")
    ),
    "daemon/nudge",
    "daemon/metrics",
    "daemon/pause",
    "daemon/resume",
    *(
        f"workflow/{v}"
        for v in ("list", "get", "run", "execute", "pause", "resume", "cancel", "events")
    ),
    *(f"agent/{v}" for v in ("run", "status", "cancel")),
    *(f"queue/{v}" for v in ("list", "enqueue", "drop", "hold", "release", "reorder", "stats")),
    *(f"project/{v}" for v in ("init", "setup", "status")),
    "service/call",  # Animus-Python extension: the CLI's service calls through the daemon
}


def test_method_table_matches_spec() -> None:
    assert CONTROL_METHODS == SPEC_METHODS
    assert {"subject/watch", "daemon/events", "daemon/logs", "workflow/events"} == STREAM_METHODS
    assert STREAM_NOTIFICATIONS == {
        "subject/watch": "subject/changed",
        "daemon/events": "daemon/event",
        "daemon/logs": "daemon/log",
        "workflow/events": "workflow/event",
    }
    assert READ_METHODS < CONTROL_METHODS
    assert "queue/enqueue" not in READ_METHODS
    assert "daemon/status" in READ_METHODS
    assert set(CONTROL_NOTIFICATIONS) == {"$/cancelRequest", "$/setPrincipal"}


EXPECTED_CODES = {
    "not_found": -32602,
    "invalid_request": -32602,
    "permission_denied": -32600,
    "unavailable": -32603,
    "not_supported": -32001,
    "conflict": -32600,
    "internal": -32603,
}


def test_category_codes_match_spec() -> None:
    assert {c.value: code for c, code in CATEGORY_RPC_CODES.items()} == EXPECTED_CODES


@pytest.mark.parametrize(
    ("err", "category", "exit_code"),
    [
        (NotFoundError("no task TASK-9"), "not_found", ExitCode.NOT_FOUND),
        (InvalidInputError("bad limit"), "invalid_request", ExitCode.INVALID_INPUT),
        (PermissionDeniedError("viewer cannot write"), "permission_denied", 2),
        (UnavailableError("provider down"), "unavailable", ExitCode.UNAVAILABLE),
        (NotSupportedError("no watch"), "not_supported", ExitCode.UNAVAILABLE),
        (ConflictError("already running"), "conflict", ExitCode.CONFLICT),
        (InternalError("bug"), "internal", ExitCode.INTERNAL),
    ],
)
def test_error_round_trip_each_category(err: AnimusError, category: str, exit_code: int) -> None:
    err.details["id"] = "X-1"
    err.hint = "do the thing"
    wire = control_error_from_exception(err)
    assert wire.code == EXPECTED_CODES[category]
    assert wire.data.category == category
    raw = json.loads(wire.to_json())
    assert raw["data"]["message"] == err.message
    back = animus_error_from_control(raw)
    assert type(back) is type(err)
    assert back.code == err.code
    assert back.exit_code == exit_code
    assert back.message == err.message
    assert back.hint == "do the thing"
    assert back.details["id"] == "X-1"
    # And through the plugin runtime's exception type.
    rpc = rpc_error_from_exception(err)
    assert isinstance(rpc, RpcError)
    assert rpc.category == category
    assert type(animus_error_from_rpc(rpc)) is type(err)


def test_unfamiliar_code_is_preserved() -> None:
    err = ConflictError("duplicate", code="duplicate_subject")
    assert category_for_error(err) is ControlErrorCategory.CONFLICT
    back = animus_error_from_control(control_error_from_exception(err))
    assert isinstance(back, ConflictError)
    assert back.code == "duplicate_subject"
    assert "code" not in back.details


def test_foreign_exception_is_internal() -> None:
    wire = control_error_from_exception(KeyError("boom"))
    assert wire.data.category == "internal"
    assert wire.code == -32603
    assert "KeyError" in wire.message


@pytest.mark.parametrize(
    ("raw", "cls"),
    [
        ({"code": -32601, "message": "method not found"}, NotSupportedError),
        ({"code": -32602, "message": "bad params"}, InvalidInputError),
        ({"code": -32003, "message": "timed out"}, UnavailableError),
        ({"code": -32603, "message": "x", "data": {"category": "other"}}, InternalError),
        ({"code": -32001, "message": "x", "data": {"category": "unsupported"}}, NotSupportedError),
        ({"code": -32603, "message": "x", "data": "not a dict"}, InternalError),
        ({"message": "no code at all"}, InternalError),
    ],
)
def test_decode_without_or_with_foreign_category(raw: dict[str, Any], cls: type) -> None:
    err = animus_error_from_control(raw)
    assert type(err) is cls
    assert err.message


def test_control_error_model_validates() -> None:
    model = ControlError.model_validate(
        {"code": -32602, "message": "m", "data": {"category": "not_found", "message": "m"}}
    )
    assert isinstance(animus_error_from_control(model), NotFoundError)


# -------------------------------------------------------------------- params / results


def test_unknown_method_is_not_supported() -> None:
    with pytest.raises(NotSupportedError, match="unknown control method 'task/list'"):
        parse_control_params("task/list", {})


@pytest.mark.parametrize("method", sorted(SPEC_METHODS))
def test_every_method_rejects_non_object_params(method: str) -> None:
    with pytest.raises(InvalidInputError, match=f"invalid params for {method}"):
        parse_control_params(method, ["not", "an", "object"])


@pytest.mark.parametrize(
    ("method", "params", "field"),
    [
        ("subject/get", {}, "id"),
        ("subject/status", {"id": "TASK-1"}, "status"),
        ("plugin/info", {"name": ""}, "name"),
        ("workflow/run", {"definition": "standard"}, "task_id"),
        ("workflow/list", {"status": "sleeping"}, "status"),
        ("workflow/list", {"limit": 0}, "limit"),
        ("queue/enqueue", {"priority": "high"}, "task_id or subject"),
        ("queue/reorder", {"subject_ids": ["a"], "position": "after"}, "anchor_id"),
        ("queue/reorder", {"position": "front"}, "id or subject_ids"),
        ("agent/run", {"provider": "claude", "model": "m"}, "prompt"),
    ],
)
def test_bad_params_name_the_field(method: str, params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_control_params(method, params)
    assert field in info.value.message
    json.dumps(info.value.details)  # details stay JSON-safe


def test_good_params() -> None:
    assert parse_control_params("daemon/status", None).model_dump() == {}
    listed = parse_control_params("subject/list", {"filter": {"status": ["ready"], "limit": 5}})
    assert isinstance(listed, SubjectListParams)
    assert listed.filter.limit == 5
    flat = parse_control_params("subject/list", {"kind": ["animus.task"]})
    assert isinstance(flat, SubjectListParams)
    assert flat.filter.kind == ["animus.task"]
    enqueue = parse_control_params(
        "queue/enqueue",
        {
            "subject": {"kind": "linear", "id": "ENG-1"},
            "workflow_ref": "triage",
            "priority": "HIGH",
        },
    )
    assert isinstance(enqueue, QueueEnqueueRequest)
    assert enqueue.priority is not None
    assert enqueue.priority.value == "high"
    # Unknown keys from a newer client are ignored, not fatal.
    parse_control_params("workflow/pause", {"id": "wf-1", "confirm": "wf-1"})


def test_results() -> None:
    status = parse_control_result(
        "daemon/status", {"running": True, "pid": 42, "uptime_seconds": 1.5, "extra": 1}
    )
    assert isinstance(status, DaemonStatusResponse)
    assert status.to_wire() == {"running": True, "pid": 42, "uptime_seconds": 1.5}
    started = parse_control_result(
        "workflow/run",
        {"workflow_id": "wf-1", "status": "running", "started_at": "2026-01-01T00:00:00Z"},
    )
    assert isinstance(started, WorkflowStarted)
    stats = parse_control_result("queue/stats", {"ready": 3, "in_flight": 1})
    assert isinstance(stats, ControlQueueStats)
    assert stats.held == 0
    assert parse_control_result("plugin/call", {"anything": [1, 2]}) == {"anything": [1, 2]}
    with pytest.raises(InternalError, match="malformed daemon/status result"):
        parse_control_result("daemon/status", {"pid": 1})


def test_stream_items() -> None:
    event = parse_stream_item(
        "daemon/events",
        {"id": "e1", "occurred_at": "2026-01-01T00:00:00Z", "kind": "queue", "payload": {}},
    )
    assert isinstance(event, DaemonRunEvent)
    changed = parse_stream_item(
        "subject/watch",
        {
            "id": "TASK-1",
            "change_kind": "status-changed",
            "subject": {
                "id": "TASK-1",
                "kind": "animus.task",
                "title": "t",
                "status": "ready",
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            },
        },
    )
    assert isinstance(changed, SubjectChangedEvent)
    assert isinstance(changed.subject, Subject)
    wf = parse_stream_item("workflow/events", {"workflow_id": "wf", "kind": "phase_failed"})
    assert isinstance(wf, WorkflowEvent)
    with pytest.raises(InvalidInputError, match="not a stream method"):
        parse_stream_item("daemon/status", {})
    with pytest.raises(InternalError, match="malformed daemon/event item"):
        parse_stream_item("daemon/events", {"kind": "x"})


def test_stream_envelopes() -> None:
    note = StreamNotification.model_validate({"id": 7, "data": {"x": 1}})
    assert note.to_wire() == {"id": 7, "data": {"x": 1}}
    closed = SubscriptionClosed.model_validate({"id": "7", "reason": "buffer_full_lagged"})
    assert closed.reason == "buffer_full_lagged"
    assert all(
        spec.result is not None for m, spec in CONTROL_METHOD_SPECS.items() if m in STREAM_METHODS
    )
