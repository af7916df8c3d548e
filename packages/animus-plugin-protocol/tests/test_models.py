"""Wire models against literal JSON from the reference, envelopes, errors, schema export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import animus_plugin_protocol as app
from animus_plugin_protocol import (
    PROTOCOL_VERSION,
    AgentError,
    AgentOutput,
    AgentRunRequest,
    AgentRunResponse,
    AgentToolCall,
    AgentToolResult,
    BeginStepResult,
    ErrorCode,
    ErrorResponse,
    InitializeParams,
    InitializeResult,
    InvalidMessage,
    LogStorageSchema,
    Notification,
    PluginKind,
    PluginManifest,
    QueueEntry,
    Request,
    RpcError,
    Subject,
    SubjectChangedParams,
    SubjectDispatch,
    SubjectFilter,
    SubjectList,
    SubjectPatch,
    SubjectRef,
    SuccessResponse,
    TriggerEvent,
    WorkflowExecuteResult,
    encode_frame,
    export_json_schemas,
    is_compatible,
    parse_message,
    subject_key,
)
from animus_plugin_protocol.schema import all_models


def wire(model: BaseModel) -> Any:
    return json.loads(encode_frame(model))


# -- envelopes ---------------------------------------------------------------------------


def test_parse_message_classifies_the_four_shapes() -> None:
    assert isinstance(parse_message({"jsonrpc": "2.0", "id": 1, "method": "m"}), Request)
    assert isinstance(parse_message({"jsonrpc": "2.0", "method": "m"}), Notification)
    ok = parse_message({"jsonrpc": "2.0", "id": "a", "result": None})
    assert isinstance(ok, SuccessResponse)
    assert wire(ok) == {"jsonrpc": "2.0", "id": "a", "result": None}
    err = parse_message({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "x"}})
    assert isinstance(err, ErrorResponse)
    assert wire(err) == {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "x"}}


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ([1, 2], "must be an object"),
        ({"id": 1, "method": "m"}, "'jsonrpc' must be"),
        ({"jsonrpc": "1.0", "id": 1, "method": "m"}, "'jsonrpc' must be"),
        ({"jsonrpc": "2.0", "id": 1, "method": 5}, "'method' must be a string"),
        ({"jsonrpc": "2.0", "id": True, "method": "m"}, "'id' must be a number or a string"),
        ({"jsonrpc": "2.0", "id": None, "method": "m"}, "'id' must be"),
        ({"jsonrpc": "2.0", "id": 1, "result": 1, "error": {}}, "exactly one"),
        ({"jsonrpc": "2.0", "result": 1}, "needs an 'id'"),
        ({"jsonrpc": "2.0", "id": 1}, "neither"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": "m"}}, "error.code"),
    ],
)
def test_parse_message_rejects_non_conforming_objects(obj: Any, fragment: str) -> None:
    with pytest.raises(InvalidMessage) as info:
        parse_message(obj)
    assert fragment in str(info.value)


def test_error_codes_and_rpc_error_round_trip() -> None:
    assert ErrorCode.NOT_INITIALIZED == -32000
    assert ErrorCode.TIMEOUT == -32003
    err = RpcError(ErrorCode.INVALID_PARAMS, "no such subject", category="not_found")
    obj = err.to_error_object()
    assert obj == {"code": -32602, "message": "no such subject", "data": {"category": "not_found"}}
    back = RpcError.from_error_object(obj)
    assert (back.code, back.message, back.category) == (-32602, "no such subject", "not_found")
    merged = RpcError(-32603, "x", category="other", data={"hint": 1}).to_error_object()
    assert merged["data"] == {"hint": 1, "category": "other"}
    assert RpcError(-32603, "x", category="c", data=[1]).to_error_object()["data"] == {
        "category": "c",
        "details": [1],
    }
    junk = RpcError.from_error_object("nonsense")
    assert junk.code == ErrorCode.INTERNAL_ERROR
    assert "malformed" in junk.message
    assert "not implemented by p" in RpcError.method_not_found("a/b", "p").message


def test_protocol_version_compatibility() -> None:
    assert PROTOCOL_VERSION == "1.1.0"
    assert is_compatible("1.0.0")
    assert is_compatible("1.9")
    assert not is_compatible("2.0.0")
    assert not is_compatible("0.9.0")
    assert not is_compatible("banana")
    assert not is_compatible("")


# -- manifest and initialize -------------------------------------------------------------


def test_manifest_literal_and_unknown_kind_round_trip() -> None:
    literal = {
        "name": "animus-subject-sqlite",
        "version": "0.2.0",
        "plugin_kind": "some_future_kind",
        "description": "SQLite subjects",
        "protocol_version": "1.1.0",
        "capabilities": ["subject/list", "subject_kind:animus.task"],
        "env_required": [{"name": "DB_URL", "sensitive": True, "required": True}],
    }
    manifest = PluginManifest.model_validate(literal)
    assert manifest.plugin_kind == "some_future_kind"
    assert not PluginKind.is_known(manifest.plugin_kind)
    assert manifest.serves_kind("some_future_kind")
    assert wire(manifest) == literal
    with pytest.raises(ValidationError, match="description"):
        PluginManifest.model_validate({k: v for k, v in literal.items() if k != "description"})


def test_initialize_params_and_result_literals() -> None:
    params = InitializeParams.model_validate(
        {
            "protocol_version": "1.0.0",
            "host_info": {"name": "animus-plugin-harness", "version": "0.3.0"},
            "capabilities": {},
            "init_extensions": {"project_binding": {"project_root": "/repo"}, "other": 1},
        }
    )
    binding = params.project_binding()
    assert binding is not None
    assert binding.project_root == "/repo"
    assert params.capabilities.cancellation is False
    result_literal = {
        "protocol_version": "1.1.0",
        "plugin_info": {"name": "q", "version": "1", "plugin_kind": "queue"},
        "capabilities": {
            "methods": ["queue/enqueue", "health/check"],
            "streaming": False,
            "progress": False,
            "cancellation": True,
        },
        "kind_capabilities": {"queue": {"crate_version": "0.3.2"}},
    }
    assert wire(InitializeResult.model_validate(result_literal)) == result_literal


# -- provider ----------------------------------------------------------------------------


def test_agent_run_request_flattens_extras() -> None:
    literal = {
        "prompt": "fix the bug",
        "cwd": "/repo",
        "model": "sonnet",
        "timeout_secs": 600,
        "reasoning_effort": "high",
        "claude_profile": "work",
    }
    request = AgentRunRequest.model_validate(literal)
    assert request.extras == {"reasoning_effort": "high", "claude_profile": "work"}
    assert wire(request) == literal
    with pytest.raises(ValidationError, match="cwd"):
        AgentRunRequest.model_validate({"prompt": "p"})


def test_agent_run_response_omits_empty_lists() -> None:
    literal = {
        "session_id": "s",
        "exit_code": 0,
        "output": "done",
        "duration_ms": 12,
        "backend": "claude:claude-native",
        "tokens_used": {"input": 1, "output": 2, "cached": 3},
    }
    response = AgentRunResponse.model_validate(literal)
    assert wire(response) == literal
    with pytest.raises(ValidationError, match="backend"):
        AgentRunResponse.model_validate({k: v for k, v in literal.items() if k != "backend"})


def test_provider_notifications_from_runtime_and_sdk_spellings() -> None:
    runtime_form = AgentOutput.model_validate({"session_id": "s", "text": "t", "final": True})
    sdk_form = AgentOutput.model_validate(
        {"kind": "output", "session_id": "s", "text": "t", "is_final": True}
    )
    expected = {"kind": "output", "session_id": "s", "text": "t", "final": True, "is_final": True}
    assert wire(runtime_form) == wire(sdk_form) == expected
    call = AgentToolCall.model_validate(
        {"session_id": "s", "name": "Bash", "arguments": {"c": 1}, "server": None}
    )
    assert wire(call) == {
        "kind": "toolCall",
        "session_id": "s",
        "name": "Bash",
        "arguments": {"c": 1},
        "server": None,
    }
    result = AgentToolResult.model_validate(
        {"session_id": "s", "name": "Bash", "output": "ok", "success": True}
    )
    assert wire(result)["kind"] == "toolResult"
    error = AgentError.model_validate({"session_id": "s", "message": "m", "recoverable": False})
    assert wire(error) == {"kind": "error", "session_id": "s", "message": "m", "recoverable": False}
    with pytest.raises(ValidationError):
        AgentError.model_validate({"session_id": "s", "message": "m"})


# -- subject -----------------------------------------------------------------------------

SUBJECT = {
    "id": "linear:ENG-123",
    "kind": "linear.issue",
    "title": "Fix login",
    "status": "in-progress",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-02T00:00:00Z",
    "labels": ["bug"],
    "native_status": "In Progress",
}


def test_subject_and_list_literals() -> None:
    assert wire(Subject.model_validate(SUBJECT)) == SUBJECT
    listing = {"subjects": [SUBJECT], "fetched_at": "2026-01-02T00:00:00Z"}
    assert wire(SubjectList.model_validate(listing)) == listing
    with pytest.raises(ValidationError, match="created_at"):
        Subject.model_validate({**SUBJECT, "created_at": ""})
    with pytest.raises(ValidationError, match="status"):
        Subject.model_validate({**SUBJECT, "status": "in_progress"})
    with pytest.raises(ValidationError, match="fetched_at"):
        SubjectList.model_validate({"subjects": []})


def test_subject_filter_flat_and_wrapped() -> None:
    flat = SubjectFilter.model_validate({"status": ["ready"], "limit": 10})
    wrapped = SubjectFilter.model_validate({"filter": {"status": ["ready"], "limit": 10}})
    assert flat == wrapped
    assert wire(flat) == {"status": ["ready"], "limit": 10}


def test_subject_patch_absent_vs_null_assignee() -> None:
    untouched = SubjectPatch.model_validate({"status": "done"})
    cleared = SubjectPatch.model_validate({"assignee": None})
    assigned = SubjectPatch.model_validate({"assignee": "ana"})
    assert not untouched.assignee_given
    assert "assignee" not in wire(untouched)
    assert cleared.assignee_given
    assert wire(cleared) == {"assignee": None}
    assert wire(assigned) == {"assignee": "ana"}


def test_subject_ref_both_wire_forms() -> None:
    legacy = SubjectRef.model_validate({"Task": {"id": "TASK-1"}})
    assert (legacy.kind, legacy.id) == ("animus.task", "TASK-1")
    assert wire(legacy) == {"Task": {"id": "TASK-1"}}
    assert subject_key(legacy) == "TASK-1"
    req = SubjectRef.model_validate({"Requirement": {"id": "REQ-2"}})
    assert req.kind == "animus.requirement"
    custom = SubjectRef.model_validate({"Custom": {"title": "t", "description": "d"}})
    assert wire(custom) == {"Custom": {"title": "t", "description": "d"}}
    flat_builtin = SubjectRef.model_validate({"kind": "animus.task", "id": "TASK-1"})
    assert flat_builtin == legacy
    flat = SubjectRef.model_validate(
        {"kind": "linear.issue", "id": "ENG-1", "labels": ["x"], "metadata": {"a": 1}}
    )
    assert wire(flat) == {
        "kind": "linear.issue",
        "id": "ENG-1",
        "labels": ["x"],
        "metadata": {"a": 1},
    }
    assert subject_key(flat) == "linear.issue::ENG-1"
    labelled_task = SubjectRef(kind="animus.task", id="T", labels=["l"])
    assert wire(labelled_task)["kind"] == "animus.task"  # legacy form cannot carry labels
    with pytest.raises(ValidationError):
        SubjectRef.model_validate({"id": "no-kind"})


def test_subject_dispatch_and_changed_params() -> None:
    literal = {
        "subject": {"Task": {"id": "TASK-1"}},
        "workflow_ref": "standard",
        "vars": {"a": "b"},
        "priority": "high",
        "trigger_source": "manual",
        "requested_at": "2026-01-01T00:00:00Z",
    }
    assert wire(SubjectDispatch.model_validate(literal)) == literal
    event = {"id": "linear:ENG-1", "change_kind": "status-changed", "subject": SUBJECT}
    wrapped = SubjectChangedParams.model_validate({"id": 7, "event": event})
    bare = SubjectChangedParams.model_validate(event)
    assert wrapped.event == bare.event
    assert wire(wrapped) == {"id": 7, "event": event}


# -- other kinds -------------------------------------------------------------------------


def test_flat_trigger_event_requires_event_id() -> None:
    literal = {
        "event_id": "evt-1",
        "trigger_id": "gh",
        "action_hint": "something_new",
        "payload": {"kind": "push"},
    }
    assert wire(TriggerEvent.model_validate(literal)) == literal
    assert wire(TriggerEvent(event_id="e")) == {"event_id": "e", "payload": {}}
    with pytest.raises(ValidationError, match="event_id"):
        TriggerEvent.model_validate({"payload": {}})
    with pytest.raises(ValidationError, match="event_id"):
        TriggerEvent.model_validate({"event_id": ""})


def test_log_storage_schema_and_queue_and_durable_literals() -> None:
    schema = LogStorageSchema.model_validate(
        {"supports_query": True, "supports_tail": False, "max_query_window": 3_600_000}
    )
    assert schema.supports_filtering.by_level is False
    entry = {
        "entry_id": "q1",
        "subject_id": "TASK-1",
        "subject_dispatch": {
            "subject": {"Task": {"id": "TASK-1"}},
            "workflow_ref": "standard",
            "trigger_source": "ready-queue",
            "requested_at": "2026-01-01T00:00:00Z",
        },
        "status": "pending",
        "enqueued_at": "2026-01-01T00:00:00Z",
    }
    assert wire(QueueEntry.model_validate(entry)) == entry
    with pytest.raises(ValidationError, match="status"):
        QueueEntry.model_validate({**entry, "status": "ready"})
    begin = {"step_id": "s1", "status": "already_committed", "prior_output": {"x": 1}}
    assert wire(BeginStepResult.model_validate(begin)) == begin
    with pytest.raises(ValidationError):
        BeginStepResult.model_validate({"step_id": "s1", "step_status": "new"})


def test_workflow_execute_result_phase_events_tagged_by_kind() -> None:
    literal = {
        "workflow_id": "wf-1",
        "workflow_ref": "standard",
        "workflow_status": "completed",
        "success": True,
        "phase_events": [
            {"kind": "started", "phase_id": "impl", "attempt": 1, "ts": "t"},
            {"kind": "decision", "phase_id": "impl", "verdict": "advance", "ts": "t"},
            {"kind": "completed", "phase_id": "impl", "status": "completed", "ts": "t"},
        ],
    }
    result = WorkflowExecuteResult.model_validate(literal)
    assert [type(e).__name__ for e in result.phase_events] == [
        "PhaseStartedEvent",
        "PhaseDecisionEvent",
        "PhaseCompletedEvent",
    ]


# -- schema export -----------------------------------------------------------------------


def test_schema_export_covers_every_model() -> None:
    schemas = export_json_schemas()
    exported_models = {
        name
        for name in app.__all__
        if isinstance(getattr(app, name), type) and issubclass(getattr(app, name), BaseModel)
    }
    assert exported_models <= set(schemas)
    assert set(all_models()) == set(schemas)
    assert schemas["TriggerEvent"]["required"] == ["event_id"]
    assert "session_id" in schemas["AgentOutput"]["properties"]


def test_schema_cli_writes_files(tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    done = subprocess.run(
        [sys.executable, "-m", "animus_plugin_protocol.schema", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    index = json.loads((out / "index.json").read_text())
    assert "PluginManifest" in index
    assert json.loads((out / "PluginManifest.json").read_text())["title"] == "PluginManifest"


def test_schema_cli_bad_usage_and_unwritable_dir(tmp_path: Path) -> None:
    usage = subprocess.run(
        [sys.executable, "-m", "animus_plugin_protocol.schema"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert usage.returncode == 2
    assert "usage" in usage.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = subprocess.run(
        [sys.executable, "-m", "animus_plugin_protocol.schema", str(blocker / "sub")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "cannot write schemas" in bad.stderr


def test_wire_models_are_built_on_first_use_only() -> None:
    """A plugin process starts once per run: importing the runtime and the provider helper
    must not build the schemas of the ~130 wire models it will never validate."""
    code = (
        "import animus_plugin_protocol.runtime, animus_plugin_protocol.provider\n"
        "from animus_plugin_protocol._wire import WireModel\n"
        "from animus_plugin_protocol import InitializeParams\n"
        "def walk(c):\n"
        "    for s in c.__subclasses__():\n"
        "        yield s\n"
        "        yield from walk(s)\n"
        "models = list(walk(WireModel))\n"
        "built = [m.__qualname__ for m in models if m.__pydantic_complete__]\n"
        "InitializeParams.model_validate({'protocol_version': '1.0',"
        " 'host_info': {'name': 'h', 'version': '1'}})\n"
        "print(len(models), built, InitializeParams.__pydantic_complete__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    count, rest = out.stdout.split(" ", 1)
    assert int(count) > 20
    assert rest.strip() == "[] True"
