"""``service/call`` against a real daemon process over its real control socket."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest
from _support import DaemonProcess, Project, running_daemon

from animus_core.hub import ServiceHub
from animus_core.requirements import RequirementFilter
from animus_core.tasks import TaskFilter
from animus_daemon_runtime.client import ControlClient
from animus_protocol.control import (
    SERVICE_CALLS,
    animus_error_from_control,
    decode_value,
    encode_value,
    restore_service_error,
)
from animus_protocol.envelope import ExitCode, NotFoundError
from animus_protocol.subjects import SubjectDispatch, SubjectRef
from animus_protocol.task import Task
from animus_protocol.workflow import WorkflowRun, WorkflowStatus


def _pause_dispatch(project: Project) -> None:
    """Start the daemon paused (its persisted state) so nothing queued gets dispatched."""
    project.paths.daemon_state.parent.mkdir(parents=True, exist_ok=True)
    project.paths.daemon_state.write_text(json.dumps({"runtime_paused": True}))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, DaemonProcess]]:
    project = Project(tmp_path_factory.mktemp("svc"))
    _pause_dispatch(project)
    _seed(project.hub)
    with running_daemon(project) as daemon:
        yield project, daemon


def _seed(hub: ServiceHub) -> None:
    first = hub.tasks.create(title="first", status="ready", priority="high", tags=["a"])
    second = hub.tasks.create(title="second", status="backlog")
    hub.tasks.add_dependency(second.id, first.id)
    hub.requirements.create(title="req one")
    hub.queue.enqueue_subject("task", first.id)
    hub.queue.enqueue_custom("adhoc work", "", workflow_ref=None)
    run = WorkflowRun(
        id="wf-seeded",
        subject=SubjectRef(kind="task", id=first.id),
        workflow_ref="standard",
        status=WorkflowStatus.FAILED,
        failure_reason="seeded failure",
    )
    hub.runs.save(run)
    hub.runs.add_checkpoint(run.id, "status-change", "impl", "idle", "failed")
    hub.errors.record("dispatch", "seeded error", task_id=first.id, workflow_id=run.id)


def _call(client: ControlClient, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
    reply = client.wait_reply(
        client.request(
            "service/call",
            {
                "service": service,
                "method": method,
                "args": encode_value(list(args)),
                "kwargs": encode_value(kwargs),
            },
        )
    )
    if "error" in reply:
        raise restore_service_error(animus_error_from_control(reply["error"]))
    return decode_value(reply["result"]["value"])


def _raw_error(client: ControlClient, params: Any) -> dict[str, Any]:
    reply = client.wait_reply(client.request("service/call", params))
    assert "error" in reply, reply
    error: dict[str, Any] = reply["error"]
    return error


_VOLATILE = {"cutoff", "captured_at", "age_hours", "now"}


def _normal(value: Any) -> Any:
    """Comparable form: models dumped, time-of-call fields dropped."""
    plain = json.loads(json.dumps(encode_value(value)))

    def strip(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in _VOLATILE}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return strip(plain)


def test_every_allowlisted_method_exists_on_the_real_hub(tmp_path: Any) -> None:
    hub = ServiceHub(tmp_path / "p", bootstrap=False)
    for service, methods in SERVICE_CALLS.items():
        owner = type(getattr(hub, service))
        for method in methods:
            target = getattr(owner, method, None)
            assert callable(target), f"{service}.{method}"
            assert not method.startswith("_")
            inspect.signature(target)  # introspectable: the daemon binds arguments first


# Each read call: what the daemon returns equals what the in-process service returns.
READ_CALLS: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
    ("tasks", "get", ("TASK-001",), {}),
    ("tasks", "list", (TaskFilter(status=("ready", "backlog"), sort="id"),), {}),
    ("tasks", "list", (), {}),
    ("tasks", "exists", ("TASK-002",), {}),
    ("tasks", "count_by_status", (), {}),
    ("tasks", "unmet_dependencies", ("TASK-002",), {}),
    ("tasks", "next", (), {}),
    ("tasks", "dependents", ("TASK-001",), {}),
    ("requirements", "get", ("REQ-001",), {}),
    ("requirements", "list", (RequirementFilter(tags=()),), {}),
    ("requirements", "count_by_status", (), {}),
    ("queue", "list", ("all",), {"limit": 10}),
    ("queue", "stats", (), {}),
    ("queue", "default_workflow_ref", (), {}),
    ("runs", "get", ("wf-seeded",), {}),
    ("runs", "exists", ("wf-seeded",), {}),
    ("runs", "list", (None, None), {"limit": 5}),
    ("runs", "describe", ("wf-seeded",), {}),
    ("runs", "decisions", ("wf-seeded",), {}),
    ("runs", "checkpoints", ("wf-seeded",), {}),
    ("runs", "checkpoint", ("wf-seeded",), {}),
    ("runs", "prune_checkpoints", ("wf-seeded",), {"keep_last": 0, "dry_run": True}),
    ("runs", "prune", (), {"older_than": "0d", "dry_run": True}),
    ("history", "for_task", ("TASK-001",), {}),
    ("history", "recent", (), {"limit": 5}),
    ("history", "search", (), {"task_id": "TASK-001", "since": "7d"}),
    ("history", "get", (1,), {}),
    ("history", "cleanup", (), {"days": 30, "dry_run": True}),
    ("errors", "list", (), {"unresolved_only": True}),
    ("errors", "get", (1,), {}),
    ("errors", "stats", (), {}),
    ("errors", "cleanup", (), {"days": 30, "dry_run": True}),
    ("status", "report", (), {"failures": 5}),
]


@pytest.mark.parametrize(
    ("service", "method", "args", "kwargs"),
    READ_CALLS,
    ids=[f"{s}.{m}" for s, m, _a, _k in READ_CALLS],
)
def test_results_equal_the_in_process_call(
    served: tuple[Project, DaemonProcess],
    service: str,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    project, _daemon = served
    local = getattr(getattr(project.hub, service), method)(*args, **kwargs)
    with project.client() as client:
        remote = _call(client, service, method, *args, **kwargs)
    assert type(remote) is type(local)
    assert _normal(remote) == _normal(local)
    if json.loads(json.dumps(encode_value(local))) == _normal(local):
        assert remote == local  # nothing time-of-call in it: equal as objects too


def test_mutations_apply_once_in_the_daemon_and_are_counted(
    served: tuple[Project, DaemonProcess],
) -> None:
    project, _daemon = served
    with project.client() as client:
        before = client.call("daemon/metrics")["counters"]
        task = _call(client, "tasks", "create", title="over the socket", priority="low")
        assert isinstance(task, Task)
        moved = _call(client, "tasks", "set_status", task.id, "ready", force=False)
        entry = _call(
            client,
            "queue",
            "enqueue",
            SubjectDispatch(subject=SubjectRef(kind="task", id=task.id), workflow_ref="standard"),
        )
        held = _call(client, "queue", "hold", [entry.entry_id], reason="wait")
        after = client.call("daemon/metrics")["counters"]
    assert moved.status.value == "ready"
    assert held.changed == [entry.entry_id]
    # The daemon's writes are the project's: the in-process hub reads them back.
    assert project.hub.tasks.get(task.id).title == "over the socket"
    assert project.hub.queue.get(entry.entry_id).status == "held"
    key = "control_service_calls_total{method=create,service=tasks}"
    assert after[key] == before.get(key, 0) + 1
    assert after["control_service_calls_total{method=hold,service=queue}"] >= 1


def test_service_errors_keep_class_payload_and_exit_code(
    served: tuple[Project, DaemonProcess],
) -> None:
    project, _daemon = served
    with pytest.raises(NotFoundError) as local:
        project.hub.tasks.get("TASK-404")
    with project.client() as client, pytest.raises(NotFoundError) as remote:
        _call(client, "tasks", "get", "TASK-404")
    assert remote.value.to_payload() == local.value.to_payload()
    assert remote.value.exit_code == ExitCode.NOT_FOUND
    with project.client() as client:
        bad = _raw_error(
            client, {"service": "tasks", "method": "set_priority", "args": ["TASK-001", "sky-high"]}
        )
    assert bad["data"]["category"] == "invalid_request"
    assert bad["data"]["details"]["$exit_code"] == 2


@pytest.mark.parametrize(
    ("params", "category", "says"),
    [
        ({"service": "db", "method": "execute"}, "not_supported", "unknown service 'db'"),
        ({"service": "queue", "method": "lease"}, "not_supported", "queue.lease"),
        ({"service": "tasks", "method": "__init__"}, "not_supported", "tasks.__init__"),
        ({"service": "tasks", "method": "get"}, "invalid_request", "bad arguments for tasks.get"),
        (
            {"service": "tasks", "method": "get", "args": ["TASK-001"], "kwargs": {"nope": 1}},
            "invalid_request",
            "unexpected keyword argument 'nope'",
        ),
        ({"service": "tasks", "method": "get", "args": 5}, "invalid_request", "args"),
        ({"method": "get"}, "invalid_request", "service"),
        (
            {
                "service": "tasks",
                "method": "list",
                "args": [{"$model": "subprocess:Popen", "data": {"args": ["true"]}}],
            },
            "invalid_request",
            "refused class 'subprocess:Popen'",
        ),
        (
            {
                "service": "tasks",
                "method": "list",
                "args": [{"$dataclass": "animus_core.tasks:TaskFilter", "data": {"bogus": 1}}],
            },
            "invalid_request",
            "invalid TaskFilter",
        ),
    ],
)
def test_bad_calls_get_clear_errors_and_leave_the_connection_and_others_usable(
    served: tuple[Project, DaemonProcess], params: dict[str, Any], category: str, says: str
) -> None:
    project, daemon = served
    with project.client() as client, project.client() as bystander:
        error = _raw_error(client, params)
        assert error["data"]["category"] == category, error
        assert says in error["message"], error
        # The same connection carries on, and another client never noticed.
        assert _call(client, "queue", "stats").total >= 0
        assert bystander.call("daemon/status")["running"] is True
    assert daemon.proc is not None
    assert daemon.proc.poll() is None
