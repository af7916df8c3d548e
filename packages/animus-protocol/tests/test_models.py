"""Round trips against literal JSON written with the spec's field names (§5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

import animus_plugin_protocol as wire
from animus_protocol import (
    AGENT_RUN_EVENT_ADAPTER,
    PHASE_EVENT_ADAPTER,
    AgentAssignee,
    AgentRunOutput,
    DaemonEventRecord,
    DependencyType,
    HumanAssignee,
    PhaseDecision,
    Priority,
    Requirement,
    RequirementPriority,
    RunnerEvent,
    SubjectDispatch,
    SubjectExecutionFact,
    SubjectRef,
    Task,
    TaskStatus,
    Unassigned,
    Verdict,
    WorkflowDecisionRecord,
    WorkflowEvent,
    WorkflowEventKind,
    WorkflowMachineState,
    WorkflowRun,
    WorkflowStatus,
    custom_ref,
    subject_key,
    task_ref,
)

TASK_JSON = """
{"id":"TASK-007","title":"Add login","description":"OAuth flow","type":"feature",
 "status":"in-progress","blocked_reason":null,"priority":"high","risk":"low","scope":"small",
 "complexity":"medium","impact_area":["frontend","api"],
 "assignee":{"type":"agent","role":"implementer","model":"claude-sonnet"},
 "estimated_effort":"2h","linked_requirements":["REQ-001"],"linked_architecture_entities":[],
 "dependencies":[{"task_id":"TASK-003","dependency_type":"blocked-by"},
                 {"task_id":"TASK-009","dependency_type":"related-to"}],
 "checklist":[{"id":"c1","description":"write tests","completed":true,
               "created_at":"2026-01-02T03:04:05.000006Z",
               "completed_at":"2026-01-03T00:00:00.000000Z"}],
 "tags":["auth"],
 "workflow_metadata":{"workflow_id":"wf-1","requires_design":false,"requires_architecture":true,
   "requires_qa":true,"requires_staging_deploy":false,"requires_production_deploy":false},
 "worktree_path":"/tmp/wt","branch_name":"animus/task-007",
 "metadata":{"created_at":"2026-01-01T00:00:00.000000Z","updated_at":"2026-01-02T00:00:00.000000Z",
   "created_by":"alice","updated_by":"animus","started_at":"2026-01-02T00:00:00.000000Z",
   "completed_at":null,"status_changed_at":"2026-01-02T00:00:00.000000Z","version":4},
 "deadline":"2026-02-01T00:00:00.000000Z","paused":false,"cancelled":false,"resolution":null,
 "resource_requirements":{"max_cpu_percent":50.0,"max_memory_mb":2048,"requires_network":true},
 "consecutive_dispatch_failures":1,"last_dispatch_failure_at":"2026-01-02T01:00:00.000000Z",
 "dispatch_history":[{"workflow_id":"wf-0","started_at":"2026-01-01T10:00:00.000000Z",
   "ended_at":"2026-01-01T10:05:00.000000Z","duration_secs":300.0,"outcome":"failed",
   "failed_phase":"implementation","failure_reason":"tests failed"}]}
"""


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def test_task_round_trip_is_lossless() -> None:
    task = Task.model_validate_json(TASK_JSON)
    assert task.task_type.value == "feature"
    assert task.status is TaskStatus.IN_PROGRESS
    assert isinstance(task.assignee, AgentAssignee)
    assert task.assignee.model == "claude-sonnet"
    assert task.dependencies[0].dependency_type is DependencyType.BLOCKED_BY
    assert task.blocking_dependency_ids() == ["TASK-003"]
    assert task.metadata.version == 4
    assert task.deadline == datetime(2026, 2, 1, tzinfo=UTC)
    assert task.to_wire() == _strip_nulls(json.loads(TASK_JSON))
    assert Task.from_json(task.to_json()) == task


def test_task_defaults_and_unknown_keys_survive() -> None:
    task = Task.from_wire({"id": "TASK-001", "title": "x", "future_field": {"a": 1}})
    assert task.status is TaskStatus.BACKLOG
    assert task.priority is Priority.MEDIUM
    assert isinstance(task.assignee, Unassigned)
    wire_form = task.to_wire()
    assert wire_form["future_field"] == {"a": 1}
    assert wire_form["type"] == "feature"
    assert "task_type" not in wire_form


@pytest.mark.parametrize(
    ("raw", "cls"),
    [
        ({"type": "human", "user_id": "bob"}, HumanAssignee),
        ({"type": "unassigned"}, Unassigned),
        ("unassigned", Unassigned),
        (None, Unassigned),
    ],
)
def test_assignee_tagged_union(raw: Any, cls: type) -> None:
    task = Task.model_validate({"id": "TASK-1", "title": "x", "assignee": raw})
    assert isinstance(task.assignee, cls)


def test_bad_task_input_names_the_field() -> None:
    with pytest.raises(ValidationError, match="assignee"):
        Task.model_validate({"id": "TASK-1", "title": "x", "assignee": {"type": "robot"}})
    with pytest.raises(ValidationError, match="status"):
        Task.model_validate({"id": "TASK-1", "title": "x", "status": "shipped"})
    with pytest.raises(ValidationError, match="title"):
        Task.model_validate({"id": "TASK-1"})


def test_assignment_is_validated() -> None:
    task = Task(id="TASK-1", title="x")
    task.status = "on_hold"  # type: ignore[assignment]
    assert task.status is TaskStatus.ON_HOLD
    task.metadata.updated_at = datetime(2026, 1, 1)  # naive -> UTC
    assert task.metadata.updated_at.tzinfo is UTC
    with pytest.raises(ValidationError):
        task.priority = "huge"  # type: ignore[assignment]


REQUIREMENT_JSON = """
{"id":"REQ-002","title":"Fast list","description":"Listing is fast","body":"# Body",
 "legacy_id":"R-2","category":"performance","type":"non-functional",
 "acceptance_criteria":["p50 < 300 ms"],"priority":"must","status":"po-review","source":"cli",
 "tags":["perf"],"links":{"tasks":["TASK-001"],"workflows":[],"tests":[],"mockups":[],"flows":[],
 "related_requirements":["REQ-001"]},
 "comments":[{"author":"po","content":"ok","timestamp":"2026-01-01T00:00:00.000000Z",
              "phase":"po-review"}],
 "relative_path":"docs/req-002.md","linked_task_ids":["TASK-001"],
 "created_at":"2026-01-01T00:00:00.000000Z","updated_at":"2026-01-01T00:00:00.000000Z",
 "rework_count":1}
"""


def test_requirement_round_trip() -> None:
    req = Requirement.model_validate_json(REQUIREMENT_JSON)
    assert req.priority is RequirementPriority.MUST
    assert req.requirement_type.value == "non-functional"
    assert req.to_wire() == json.loads(REQUIREMENT_JSON)


def test_requirement_defaults() -> None:
    req = Requirement(id="REQ-001", title="t")
    assert req.priority is RequirementPriority.SHOULD
    assert req.status.value == "draft"


@pytest.mark.parametrize(
    ("raw", "kind", "ident"),
    [
        ({"Task": {"id": "TASK-1"}}, "animus.task", "TASK-1"),
        ({"Requirement": {"id": "REQ-1"}}, "animus.requirement", "REQ-1"),
        ({"Custom": {"title": "Fix it", "description": "now"}}, "custom", None),
        ({"kind": "linear", "id": "ENG-1", "labels": ["x"]}, "linear", "ENG-1"),
    ],
)
def test_subject_ref_both_wire_forms(raw: dict[str, Any], kind: str, ident: str | None) -> None:
    ref = SubjectRef.model_validate(raw)
    assert ref.kind == kind
    assert ref.id == ident
    assert SubjectRef.model_validate(ref.to_wire()) == ref


def test_subject_keys() -> None:
    assert task_ref("TASK-1").to_wire() == {"Task": {"id": "TASK-1"}}
    assert subject_key(task_ref("TASK-1")) == "TASK-1"
    assert subject_key(SubjectRef(kind="linear", id="ENG-1")) == "linear::ENG-1"
    assert custom_ref("Fix", "it").kind == "custom"


DISPATCH_JSON = """
{"subject":{"Task":{"id":"TASK-007"}},"workflow_ref":"standard","input":{"k":1},
 "vars":{"branch":"main"},"priority":"high","trigger_source":"schedule:nightly",
 "requested_at":"2026-01-01T00:00:00.000000Z"}
"""


def test_subject_dispatch_round_trip_and_plugin_compat() -> None:
    dispatch = SubjectDispatch.model_validate_json(DISPATCH_JSON)
    assert dispatch.priority is Priority.HIGH
    assert dispatch.subject_key == "TASK-007"
    assert dispatch.to_wire() == json.loads(DISPATCH_JSON)
    # The queue plugin's model reads what we write, and our instance is one of theirs.
    assert isinstance(dispatch, wire.SubjectDispatch)
    assert dispatch.requested_at_dt == datetime(2026, 1, 1, tzinfo=UTC)
    theirs = wire.SubjectDispatch.model_validate(dispatch.to_wire())
    assert theirs.requested_at == "2026-01-01T00:00:00.000000Z"
    params = wire.QueueEnqueueParams(subject_dispatch=dispatch)
    assert params.to_wire()["subject_dispatch"]["priority"] == "high"


def test_subject_dispatch_defaults() -> None:
    dispatch = SubjectDispatch(subject=task_ref("TASK-1"), workflow_ref="standard")
    assert dispatch.trigger_source == "manual"
    assert dispatch.requested_at.endswith("Z")
    assert dispatch.requested_at_dt.tzinfo is UTC
    later = SubjectDispatch(
        subject=task_ref("TASK-1"),
        workflow_ref="w",
        requested_at=datetime(2026, 5, 1, 2, 0, tzinfo=UTC),
    )
    assert later.requested_at == "2026-05-01T02:00:00.000000Z"
    with pytest.raises(ValidationError, match="requested_at"):
        SubjectDispatch(subject=task_ref("TASK-1"), workflow_ref="w", requested_at="yesterday")
    assert dispatch.vars == {}


WORKFLOW_JSON = """
{"id":"wf-1","task_id":"TASK-007","workflow_ref":"standard","subject":{"Task":{"id":"TASK-007"}},
 "input":null,"vars":{"a":"b"},"status":"running","current_phase_index":1,
 "phases":[{"phase_id":"design","status":"success","started_at":"2026-01-01T00:00:00.000000Z",
            "completed_at":"2026-01-01T00:10:00.000000Z","attempt":1,"error_message":null},
           {"phase_id":"implementation","status":"running",
            "started_at":"2026-01-01T00:10:00.000000Z","attempt":2}],
 "machine_state":"run-phase","current_phase":"implementation",
 "started_at":"2026-01-01T00:00:00.000000Z","completed_at":null,"failure_reason":null,
 "checkpoint_metadata":{"checkpoint_count":1,"checkpoints":[{"number":1,
   "timestamp":"2026-01-01T00:00:00.000000Z","reason":"start","phase_id":"design",
   "machine_state":"evaluate-transition","status":"running"}]},
 "rework_counts":{"implementation":1},"total_reworks":1,
 "decision_history":[{"timestamp":"2026-01-01T00:10:00.000000Z","phase_id":"design",
   "source":"llm","decision":"advance","reason":"looks good","confidence":0.9,"risk":"low",
   "guardrail_violations":[],"machine_version":"1","machine_hash":"abc",
   "machine_source":"builtin"}]}
"""


def test_workflow_run_round_trip() -> None:
    run = WorkflowRun.model_validate_json(WORKFLOW_JSON)
    assert run.status is WorkflowStatus.RUNNING
    assert run.machine_state is WorkflowMachineState.RUN_PHASE
    phase = run.phase("implementation")
    assert phase is not None
    assert phase.attempt == 2
    assert run.phase("missing") is None
    assert run.decision_history[0].decision.value == "advance"
    assert run.to_wire() == _strip_nulls(json.loads(WORKFLOW_JSON))


def test_legacy_run_without_subject_gets_its_task() -> None:
    run = WorkflowRun.model_validate(
        {"id": "wf-old", "task_id": "TASK-3", "status": "completed", "machine_state": "completed"}
    )
    assert run.subject.kind == "animus.task"
    assert run.subject.id == "TASK-3"
    with pytest.raises(ValidationError, match="subject"):
        WorkflowRun.model_validate({"id": "wf-x", "status": "running"})


def test_phase_decision_tolerates_agent_output() -> None:
    decision = PhaseDecision.model_validate(
        {
            "phase_id": "review",
            "verdict": "Ship-It",
            "confidence": "1.7",
            "risk": "extreme",
            "evidence": [
                {"kind": "tests_passed", "description": "42 passed", "value": 42},
                {"kind": "benchmark_ran", "description": "fast"},
            ],
        }
    )
    assert decision.kind == "phase_decision"
    assert decision.verdict is Verdict.UNKNOWN
    assert decision.confidence == 1.0
    assert decision.risk.value == "medium"
    assert decision.evidence[1].kind == "benchmark_ran"
    assert PhaseDecision.from_json(decision.to_json()) == decision
    with pytest.raises(ValidationError, match="confidence"):
        PhaseDecision.model_validate({"verdict": "advance", "confidence": "high"})
    with pytest.raises(ValidationError, match="verdict"):
        PhaseDecision.model_validate({"phase_id": "x"})


def test_decision_record_requires_known_action() -> None:
    record = WorkflowDecisionRecord(phase_id="p", decision="repeat")
    assert record.decision.value == "repeat"
    with pytest.raises(ValidationError):
        WorkflowDecisionRecord.model_validate({"phase_id": "p", "decision": "maybe"})


def test_execution_fact_round_trip() -> None:
    raw = {
        "subject_id": "TASK-1",
        "subject_kind": "animus.task",
        "task_id": "TASK-1",
        "workflow_id": "wf-1",
        "workflow_ref": "standard",
        "workflow_status": "failed",
        "exit_code": 1,
        "success": False,
        "failure_reason": "phase implementation failed",
        "runner_events": [
            {
                "event": "workflow_failed",
                "task_id": "TASK-1",
                "workflow_id": "wf-1",
                "workflow_status": "failed",
                "exit_code": 1,
            }
        ],
    }
    fact = SubjectExecutionFact.model_validate(raw)
    assert isinstance(fact.runner_events[0], RunnerEvent)
    assert fact.to_wire() == raw


def test_phase_events_tagged_by_kind() -> None:
    lines = [
        '{"kind":"started","phase_id":"p","attempt":1,"ts":"2026-01-01T00:00:00Z"}',
        '{"kind":"decision","phase_id":"p","verdict":"advance","confidence":0.8,'
        '"ts":"2026-01-01T00:00:01Z"}',
        '{"kind":"completed","phase_id":"p","status":"completed","ts":"2026-01-01T00:00:02Z"}',
    ]
    events = [PHASE_EVENT_ADAPTER.validate_json(line) for line in lines]
    assert [type(e).__name__ for e in events] == [
        "PhaseStartedEvent",
        "PhaseDecisionEvent",
        "PhaseCompletedEvent",
    ]
    for line, event in zip(lines, events, strict=True):
        assert event.to_wire() == json.loads(line)
    with pytest.raises(ValidationError):
        PHASE_EVENT_ADAPTER.validate_json('{"kind":"exploded","phase_id":"p"}')


def test_workflow_event_keeps_unknown_kinds() -> None:
    known = WorkflowEvent.model_validate(
        {
            "workflow_id": "wf",
            "kind": "phase_started",
            "payload": {"phase_id": "p"},
            "occurred_at": "2026-01-01T00:00:00+00:00",
        }
    )
    assert known.kind is WorkflowEventKind.PHASE_STARTED
    assert known.to_wire()["occurred_at"] == "2026-01-01T00:00:00.000000Z"
    other = WorkflowEvent.model_validate({"workflow_id": "wf", "kind": "budget_warning"})
    assert other.kind == "budget_warning"


def test_daemon_event_record() -> None:
    raw = {
        "schema": "animus.daemon-event.v1",
        "id": "ev-1",
        "seq": 7,
        "timestamp": "2026-01-01T00:00:00.000000Z",
        "event_type": "task-state-change",
        "project_root": "/repo",
        "data": {
            "from_status": "ready",
            "to_status": "in-progress",
            "blocked_reason": None,
            "changed_at": "2026-01-01T00:00:00Z",
        },
    }
    record = DaemonEventRecord.model_validate(raw)
    # ``data`` is opaque: explicit nulls inside it are kept.
    assert record.to_wire() == raw
    assert record.timestamp_dt == datetime(2026, 1, 1, tzinfo=UTC)
    assert json.loads(record.to_json())["schema"] == "animus.daemon-event.v1"
    assert isinstance(record, wire.DaemonEventRecord)
    notify = wire.NotifierNotifyParams(event=record)
    assert notify.to_wire()["event"]["seq"] == 7
    with pytest.raises(ValidationError, match="schema"):
        DaemonEventRecord.model_validate({**raw, "schema": "animus.daemon-event.v2"})


def test_agent_run_events() -> None:
    chunk = AGENT_RUN_EVENT_ADAPTER.validate_json(
        '{"type":"output_chunk","stream_type":"stderr","text":"warn","run_id":"r1",'
        '"ts":"2026-01-01T00:00:00Z"}'
    )
    assert isinstance(chunk, AgentRunOutput)
    assert chunk.stream_type.value == "stderr"
    finished = AGENT_RUN_EVENT_ADAPTER.validate_python(
        {"type": "finished", "exit_code": 0, "duration_ms": 1234}
    )
    assert AGENT_RUN_EVENT_ADAPTER.validate_json(finished.to_json()) == finished
    with pytest.raises(ValidationError):
        AGENT_RUN_EVENT_ADAPTER.validate_python({"type": "output_chunk"})
