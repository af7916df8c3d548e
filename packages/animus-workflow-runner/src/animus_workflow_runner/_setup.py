"""Creating a new run (subject, validated workflow, initial state) or loading one to resume."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_protocol.statuses import WorkflowMachineState, WorkflowStatus
from animus_protocol.subjects import SubjectRef, canonical_subject_kind, subject_key, task_ref
from animus_protocol.timeutil import utc_now
from animus_protocol.workflow import WorkflowPhaseExecution, WorkflowRun
from animus_workflow_runner.control import TERMINAL_STATUSES, runner_alive, runner_state
from animus_workflow_runner.definition import (
    WorkflowDefinition,
    default_variables,
    load_workflow,
)

if TYPE_CHECKING:
    from animus_workflow_runner.engine import WorkflowExecution

__all__ = ["create_run", "load_run", "new_run_id", "resolve_subject", "validate_new"]


def new_run_id() -> str:
    return f"wf-{utc_now().strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"


def _parse_subject(value: str) -> SubjectRef:
    kind, sep, ident = value.partition(":")
    if not sep or not kind.strip() or not ident.strip():
        raise InvalidInputError(
            f"invalid subject {value!r}: expected KIND:ID (e.g. task:TASK-001)",
            details={"subject": value},
        )
    kind = canonical_subject_kind(kind)
    return (
        task_ref(ident.strip())
        if kind == "animus.task"
        else SubjectRef(kind=kind, id=ident.strip())
    )


def resolve_subject(ex: WorkflowExecution) -> tuple[SubjectRef, str]:
    req = ex.request
    if req.task_id and req.subject:
        raise InvalidInputError("give either --task-id or --subject, not both")
    if req.task_id:
        ref = task_ref(req.task_id)
    elif req.subject:
        ref = _parse_subject(req.subject)
    else:
        raise InvalidInputError(
            "a run needs a subject", hint="pass --task-id ID or --subject KIND:ID"
        )
    task_id = ""
    if ref.kind == "animus.task":
        assert ref.id is not None
        ex.task = ex.hub.tasks.get(ref.id)  # NotFoundError for an unknown task
        task_id = ex.task.id
        ref = task_ref(task_id)
    return ref, task_id


def validate_new(ex: WorkflowExecution) -> tuple[SubjectRef, str]:
    """Everything a new run needs, checked before anything is created: the subject exists,
    the workflow loads and validates (file:line), no other run of the subject is active."""
    req = ex.request
    ref, task_id = resolve_subject(ex)
    dispatch_ref = None
    if ex.task is not None:
        meta = getattr(ex.task, "workflow_metadata", None)
        extra = getattr(meta, "model_extra", None) or {}
        dispatch_ref = extra.get("workflow_ref") if isinstance(extra, dict) else None
    ex.definition = load_workflow(
        ex.hub.project_root,
        req.workflow_ref or dispatch_ref,
        env=ex.env,
        variables=req.vars,
    )
    key = subject_key(ref)
    if key in ex.hub.runs.active_subjects():
        raise ConflictError(
            f"subject {key} already has an active workflow run",
            details={"subject": key},
            hint="resume, pause or cancel that run first ('animus workflow list')",
        )
    return ref, task_id


def create_run(ex: WorkflowExecution) -> None:
    req = ex.request
    ref, task_id = validate_new(ex)
    run_id = req.run_id or new_run_id()
    ex.run = WorkflowRun(
        id=run_id,
        task_id=task_id,
        workflow_ref=ex.definition.ref,
        subject=ref,
        input=req.input,
        vars={**default_variables(ex.definition), **req.vars},
        status=WorkflowStatus.RUNNING,
        phases=[WorkflowPhaseExecution(phase_id=p["id"]) for p in ex.definition.phases],
        machine_state=WorkflowMachineState.IDLE,
    )
    ex.state = {
        "definition": ex.definition.snapshot(),
        "ordinal": 0,
        "in_phase": None,
        "phase_attempts": {},
        "rework": None,
        "outputs": {},
        "usage": {"tokens": 0, "cost_usd": 0.0, "phases": {}},
        "budget_acknowledged": [],
    }


def load_run(ex: WorkflowExecution, workflow_id: str) -> None:
    try:
        ex.run = ex.hub.runs.get(workflow_id)
    except NotFoundError as exc:
        raise InvalidInputError(str(exc), details={"workflow_id": workflow_id}) from exc
    retry_landing = (
        ex.run.status is WorkflowStatus.FAILED
        and ex.run.machine_state is WorkflowMachineState.MERGE_CONFLICT
    )
    if ex.run.status in TERMINAL_STATUSES and not retry_landing:
        raise ConflictError(
            f"workflow run {workflow_id} is already {ex.run.status.value}; it cannot resume",
            details={"workflow_id": workflow_id, "status": ex.run.status.value},
        )
    if runner_alive(ex.run) and runner_state(ex.run).get("pid") != os.getpid():
        raise ConflictError(
            f"workflow run {workflow_id} is being run by pid {runner_state(ex.run)['pid']}",
            details={"workflow_id": workflow_id},
            hint="pause or cancel it instead ('animus workflow pause RUN')",
        )
    ex.state = runner_state(ex.run)
    ex.definition = WorkflowDefinition.from_snapshot(ex.state["definition"])
    if ex.run.task_id:
        ex.task = ex.hub.tasks.get(ex.run.task_id)
    ex.resumed = True
