"""The Animus workflow runner: phase loop, verdict routing, rework, worktrees and git, merge/PR,
checkpoints, budgets, durable steps.

``execute(ExecuteRequest(...))`` runs one workflow run until it ends or waits (the same code
the ``animus-workflow-runner execute`` executable runs); ``request_action`` and
``record_manual_verdict`` reach a run through the database. Names are imported on first
use, so importing the package (e.g. for ``--version``) stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import version as _version
from typing import TYPE_CHECKING, Any

__version__ = _version("animus-workflow-runner")

_EXPORTS = {
    "EXIT_CODES": "animus_workflow_runner.engine",
    "ExecuteRequest": "animus_workflow_runner.engine",
    "RunOutcome": "animus_workflow_runner.engine",
    "WorkflowExecution": "animus_workflow_runner.engine",
    "execute": "animus_workflow_runner.engine",
    "new_run_id": "animus_workflow_runner.engine",
    "Condition": "animus_workflow_runner.conditions",
    "ConditionError": "animus_workflow_runner.conditions",
    "parse_condition": "animus_workflow_runner.conditions",
    "WorkflowDefinition": "animus_workflow_runner.definition",
    "load_workflow": "animus_workflow_runner.definition",
    "resolve_workflow_ref": "animus_workflow_runner.definition",
    "WorkflowEventSink": "animus_workflow_runner.events",
    "read_events": "animus_workflow_runner.events",
    "read_phase_output": "animus_workflow_runner.outputs",
    "read_phase_outputs": "animus_workflow_runner.outputs",
    "record_manual_verdict": "animus_workflow_runner.control",
    "request_action": "animus_workflow_runner.control",
    "runner_alive": "animus_workflow_runner.control",
    "settle_offline": "animus_workflow_runner.control",
    "run_command_phase": "animus_workflow_runner.command_phase",
}

__all__ = [
    "EXIT_CODES",
    "Condition",
    "ConditionError",
    "ExecuteRequest",
    "RunOutcome",
    "WorkflowDefinition",
    "WorkflowEventSink",
    "WorkflowExecution",
    "__version__",
    "execute",
    "load_workflow",
    "new_run_id",
    "parse_condition",
    "read_events",
    "read_phase_output",
    "read_phase_outputs",
    "record_manual_verdict",
    "request_action",
    "resolve_workflow_ref",
    "run_command_phase",
    "runner_alive",
    "settle_offline",
]

if TYPE_CHECKING:
    from animus_workflow_runner.command_phase import run_command_phase
    from animus_workflow_runner.conditions import Condition, ConditionError, parse_condition
    from animus_workflow_runner.control import (
        record_manual_verdict,
        request_action,
        runner_alive,
        settle_offline,
    )
    from animus_workflow_runner.definition import (
        WorkflowDefinition,
        load_workflow,
        resolve_workflow_ref,
    )
    from animus_workflow_runner.engine import (
        EXIT_CODES,
        ExecuteRequest,
        RunOutcome,
        WorkflowExecution,
        execute,
        new_run_id,
    )
    from animus_workflow_runner.events import WorkflowEventSink, read_events
    from animus_workflow_runner.outputs import read_phase_output, read_phase_outputs


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'animus_workflow_runner' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
