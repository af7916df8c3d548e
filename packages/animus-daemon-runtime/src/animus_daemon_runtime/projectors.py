"""Projectors: execution facts in, state changes out.

The scheduler never interprets what a run did; it hands each fact to these projectors:
queue completion, the crash projection of task status (the runner projects task status
itself when it is alive to do so), schedule state, notifications (daemon events) and
metrics.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from animus_protocol.envelope import AnimusError
from animus_protocol.events import SubjectExecutionFact

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub
    from animus_daemon_runtime.daemon_events import DaemonEvents
    from animus_daemon_runtime.metrics import Metrics
    from animus_daemon_runtime.schedules import ScheduleBook

__all__ = ["FactProjectors"]

_QUEUE_STATUS = {"completed": "completed", "cancelled": "cancelled"}


class FactProjectors:
    def __init__(
        self,
        hub: ServiceHub,
        events: DaemonEvents,
        metrics: Metrics,
        schedules: Callable[[], ScheduleBook | None],
    ) -> None:
        self.hub = hub
        self.events = events
        self.metrics = metrics
        self.schedules = schedules

    def workflow_event(self, workflow_id: str, event: dict[str, Any]) -> None:
        """A live runner event (phase facts feed the phase counter)."""
        kind = str(event.get("kind", ""))
        if kind == "phase_completed":
            payload = event.get("payload") or {}
            status = (
                str(payload.get("status", "success")) if isinstance(payload, dict) else "success"
            )
            self.metrics.inc("phase_executions_total", status=status)

    def started(self, fact: SubjectExecutionFact, *, resumed: bool) -> None:
        self.events.emit(
            "workflow",
            {
                "action": "resumed" if resumed else "started",
                "workflow_id": fact.workflow_id,
                "subject": fact.subject_id,
                "workflow_ref": fact.workflow_ref,
            },
        )

    def finished(self, fact: SubjectExecutionFact, *, entry_id: str | None) -> None:
        status = fact.workflow_status.value if fact.workflow_status else "failed"
        self.metrics.inc("workflow_runs_total", status=status)
        if entry_id:
            queue_status = _QUEUE_STATUS.get(status, "failed")
            with contextlib.suppress(AnimusError):
                self.hub.queue.complete(entry_id, queue_status, workflow_id=fact.workflow_id)
        book = self.schedules()
        if fact.schedule_id and book is not None:
            book.record_outcome(fact.schedule_id, status)
        self.events.emit(
            "workflow",
            {
                "action": "finished",
                "workflow_id": fact.workflow_id,
                "subject": fact.subject_id,
                "status": status,
                "exit_code": fact.exit_code,
                "failure_reason": fact.failure_reason,
            },
        )
        if not fact.success and status != "cancelled":
            self.events.emit(
                "workflow-failed",
                {
                    "workflow_id": fact.workflow_id,
                    "subject": fact.subject_id,
                    "reason": fact.failure_reason,
                },
            )
            if fact.task_id:
                self.events.emit(
                    "task-blocked",
                    {"task_id": fact.task_id, "reason": fact.failure_reason},
                )

    def crashed(self, fact: SubjectExecutionFact, reason: str) -> None:
        """The runner died without projecting the task: block it with the reason."""
        if fact.task_id:
            with contextlib.suppress(AnimusError):
                self.hub.tasks.block(fact.task_id, reason, by="daemon")
