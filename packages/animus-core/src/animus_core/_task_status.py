"""The task-only status verbs as pure functions: a task in, a changed copy out.

They add rules on top of the transition table: ``pause`` only from backlog, ready or blocked;
``resume`` only from on-hold; ``block`` from any unfinished status (an operator decision, so
it bypasses the table); ``reopen`` only from done or cancelled. Each raises ConflictError
with a hint naming the command to use instead.
"""

from __future__ import annotations

from datetime import datetime

from animus_protocol.envelope import ConflictError
from animus_protocol.statuses import TaskStatus
from animus_protocol.task import Task
from animus_protocol.transitions import apply_task_status

__all__ = ["blocked", "paused", "reopened", "resumed"]


def _refuse(task: Task, message: str, hint: str) -> ConflictError:
    return ConflictError(
        f"{task.id} is {task.status.value}; {message}",
        details={"task_id": task.id, "status": task.status.value},
        hint=hint,
    )


def reopened(task: Task, *, now: datetime, by: str) -> Task:
    if not task.status.is_terminal:
        raise _refuse(
            task,
            "only done or cancelled tasks reopen",
            f"use 'animus task status {task.id} <status>' to move it instead",
        )
    out = apply_task_status(task, TaskStatus.BACKLOG, now=now, by=by)
    out.resolution = None
    return out


def paused(task: Task, reason: str | None, *, now: datetime, by: str) -> Task:
    if task.status is TaskStatus.ON_HOLD and task.paused:
        return task
    if task.status not in (TaskStatus.BACKLOG, TaskStatus.READY, TaskStatus.BLOCKED):
        raise _refuse(
            task,
            "only backlog, ready or blocked tasks can be paused",
            "cancel or block an in-progress task instead",
        )
    out = apply_task_status(task, TaskStatus.ON_HOLD, reason=reason or "paused", now=now, by=by)
    out.paused = True
    return out


def resumed(task: Task, *, now: datetime, by: str) -> Task:
    if task.status is not TaskStatus.ON_HOLD:
        raise _refuse(
            task, "it is not paused (on-hold)", f"pause it first with 'animus task pause {task.id}'"
        )
    return apply_task_status(task, TaskStatus.READY, now=now, by=by)


def blocked(task: Task, reason: str, *, now: datetime, by: str) -> Task:
    if task.status.is_terminal:
        raise _refuse(
            task,
            "a finished task cannot be blocked",
            f"reopen it first with 'animus task reopen {task.id}'",
        )
    out = apply_task_status(task, TaskStatus.BLOCKED, force=True, reason=reason, now=now, by=by)
    if out is task:  # already blocked: only the reason changes
        out = task.model_copy(deep=True)
        out.blocked_reason = reason
        out.touch(now, by)
    out.blocked_by = by
    return out
