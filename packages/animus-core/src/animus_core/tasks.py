"""The built-in task backend on ``workflow.db`` (spec §5.2).

Every mutation is one ``BEGIN IMMEDIATE`` transaction: load the task, change a copy, save it
(summary columns and side tables rewritten from the JSON body), append a ``history`` row.
Every real change stamps ``metadata.updated_at`` and bumps ``metadata.version``.

Verb rules beyond the validated status transitions (``animus_protocol.transitions``):

* ``pause`` moves a backlog, ready or blocked task to on-hold and sets ``paused``;
  ``resume`` moves an on-hold task back to ready (which clears ``paused``).
* ``block`` is an operator verb: it blocks any task that is not done or cancelled, with a
  reason; ``reopen`` moves done or cancelled back to backlog.
* Moving to in-progress while ``blocked-by`` dependencies are not done is a conflict unless
  forced; ``next()`` only offers ready, unpaused tasks whose dependencies are all done.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from animus_core._subject_history import record_subject_event
from animus_core._task_fields import (
    ENUM_FIELDS,
    UPDATABLE_FIELDS,
    assignee_value,
    clean_tags,
    invalid_field,
    parse_deadline,
)
from animus_core._task_graph import NEXT_READY_SQL, blocked_by_path
from animus_core._task_graph import unmet_dependencies as unmet_edges
from animus_core._task_query import TaskFilter, TaskPage, query_tasks
from animus_core._task_rows import (
    canonical_task_id,
    delete_task_row,
    load_task,
    parse_task,
    save_task,
)
from animus_core._task_status import blocked, paused, reopened, resumed
from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError
from animus_protocol.ids import TASK_PREFIX
from animus_protocol.statuses import (
    DependencyType,
    Priority,
    TaskStatus,
    TaskType,
)
from animus_protocol.task import (
    ChecklistItem,
    Task,
    TaskDependency,
    TaskMetadata,
)
from animus_protocol.timeutil import utc_now
from animus_protocol.transitions import apply_task_status

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub
    from animus_store import Database

__all__ = ["UPDATABLE_FIELDS", "TaskFilter", "TaskPage", "TaskService"]

# Status changes after which queued work may have become dispatchable.
_WAKES_DISPATCH = frozenset({TaskStatus.READY, TaskStatus.DONE, TaskStatus.CANCELLED})


class TaskService:
    """Tasks of one project. Thread- and process-safe (SQLite serializes writers)."""

    def __init__(self, hub: ServiceHub) -> None:
        self._hub = hub

    @property
    def _db(self) -> Database:
        return self._hub.db

    # -- reads ---------------------------------------------------------------------------

    def get(self, task_id: str) -> Task:
        with self._db.read() as conn:
            return load_task(conn, canonical_task_id(task_id))

    def list(self, flt: TaskFilter | None = None) -> TaskPage:
        with self._db.read() as conn:
            return query_tasks(conn, flt or TaskFilter())

    def exists(self, task_id: str) -> bool:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM tasks WHERE id = ?", (canonical_task_id(task_id),)
            ).fetchone()
        return row is not None

    def count_by_status(self) -> dict[str, int]:
        counts = {s.value: 0 for s in TaskStatus}
        with self._db.read() as conn:
            for status, n in conn.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status"):
                counts[str(status)] = int(n)
        return counts

    def unmet_dependencies(self, task_id: str) -> builtins.list[str]:
        """``blocked-by`` dependencies that are not done (a missing task counts as unmet)."""
        with self._db.read() as conn:
            tid = canonical_task_id(task_id)
            load_task(conn, tid)
            return unmet_edges(conn, tid)

    def next(self) -> Task | None:
        """The most urgent ready, unpaused task whose dependencies are all done."""
        with self._db.read() as conn:
            row = conn.execute(NEXT_READY_SQL).fetchone()
        return None if row is None else parse_task(row[0])

    # -- create / update / delete ---------------------------------------------------------

    def create(
        self,
        *,
        title: str,
        description: str = "",
        task_type: str = "feature",
        priority: str = "medium",
        tags: Iterable[str] = (),
        status: str = "backlog",
        assignee: str | None = None,
        deadline: datetime | str | None = None,
        risk: str | None = None,
        scope: str | None = None,
        complexity: str | None = None,
        linked_requirements: Iterable[str] = (),
        created_by: str = "cli",
    ) -> Task:
        if not title or not title.strip():
            raise InvalidInputError(
                "a task needs a non-empty title", hint="pass --title 'what to do'"
            )
        now = utc_now()
        fields: dict[str, Any] = {
            "title": title.strip(),
            "description": description,
            "type": TaskType.parse(task_type),
            "priority": Priority.parse(priority),
            "status": TaskStatus.parse(status),
            "tags": clean_tags(tags),
            "deadline": parse_deadline(deadline),
            "linked_requirements": list(dict.fromkeys(linked_requirements)),
            "assignee": assignee_value(assignee),
        }
        for key, value in (("risk", risk), ("scope", scope), ("complexity", complexity)):
            if value is not None:
                fields[key] = ENUM_FIELDS[key].parse(value)
        with self._db.transaction() as conn:
            task_id = self._db.next_id(TASK_PREFIX)
            try:
                task = Task(
                    id=task_id,
                    metadata=TaskMetadata(
                        created_at=now,
                        updated_at=now,
                        created_by=created_by,
                        updated_by=created_by,
                        status_changed_at=now,
                    ),
                    **fields,
                )
            except ValidationError as exc:
                raise invalid_field(exc) from None
            if task.status is TaskStatus.IN_PROGRESS:
                task.metadata.started_at = now
            elif task.status is TaskStatus.DONE:
                task.metadata.completed_at = now
            save_task(conn, task)
            record_subject_event(
                conn,
                "task.created",
                subject_id=task.id,
                is_task=True,
                message=f"created {task.id}: {task.title}",
                data={"status": task.status, "by": created_by},
            )
        return task

    def update(self, task_id: str, *, by: str = "cli", **changes: Any) -> Task:
        """Change plain fields (see :data:`UPDATABLE_FIELDS`); status has its own verbs."""
        unknown = sorted(set(changes) - UPDATABLE_FIELDS)
        if unknown:
            raise InvalidInputError(
                f"cannot update {', '.join(unknown)} on a task",
                details={"fields": unknown, "accepted": sorted(UPDATABLE_FIELDS)},
                hint="change status with 'animus task status', dependencies with "
                "'animus task dependency'",
            )
        values = dict(changes)
        for key, enum in ENUM_FIELDS.items():
            if values.get(key) is not None:
                values[key] = enum.parse(values[key])
        if "tags" in values:
            values["tags"] = clean_tags(values["tags"])
        if "deadline" in values:
            values["deadline"] = parse_deadline(values["deadline"])
        if "assignee" in values and (
            values["assignee"] is None or isinstance(values["assignee"], str)
        ):
            values["assignee"] = assignee_value(values["assignee"])
        if "title" in values and not str(values["title"]).strip():
            raise InvalidInputError("a task title cannot be empty", hint="pass a non-empty --title")

        def change(task: Task) -> tuple[Task, dict[str, Any]]:
            data = task.model_dump(by_alias=False)
            data.update(values)
            try:
                out = Task.model_validate(data)
            except ValidationError as exc:
                raise invalid_field(exc) from None
            if out == task:
                return task, {}
            return out, {"changes": sorted(values)}

        return self._mutate(task_id, change, "task.updated", "updated", by)

    def delete(self, task_id: str, *, by: str = "cli") -> Task:
        """Delete a task; other tasks' dependency edges on it are removed too."""
        tid = canonical_task_id(task_id)
        with self._db.transaction() as conn:
            task = load_task(conn, tid)
            dependents = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT task_id FROM task_dependencies WHERE depends_on = ?", (tid,)
                )
            ]
            now = utc_now()
            for dep_id in dependents:
                other = load_task(conn, dep_id)
                other = other.model_copy(deep=True)
                other.dependencies = [d for d in other.dependencies if d.task_id != tid]
                other.touch(now, by)
                save_task(conn, other)
            delete_task_row(conn, tid)
            record_subject_event(
                conn,
                "task.deleted",
                subject_id=tid,
                is_task=True,
                message=f"deleted {tid}: {task.title}",
                data={"by": by, "dependents_updated": dependents},
            )
        return task

    def dependents(self, task_id: str) -> builtins.list[str]:
        """Tasks with any dependency edge on ``task_id``."""
        with self._db.read() as conn:
            return [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT task_id FROM task_dependencies WHERE depends_on = ? "
                    "ORDER BY task_id",
                    (canonical_task_id(task_id),),
                )
            ]

    # -- status ----------------------------------------------------------------------------

    def set_status(
        self,
        task_id: str,
        status: TaskStatus | str,
        *,
        force: bool = False,
        reason: str | None = None,
        by: str = "cli",
    ) -> Task:
        dst = TaskStatus.parse(status)

        def change(task: Task, conn: sqlite3.Connection) -> Task:
            if dst is TaskStatus.IN_PROGRESS and not force and task.status is not dst:
                unmet = unmet_edges(conn, task.id)
                if unmet:
                    raise ConflictError(
                        f"{task.id} waits for {', '.join(unmet)} (blocked-by, not done)",
                        details={"task_id": task.id, "unmet_dependencies": unmet},
                        hint="finish those tasks first, or pass --force to start anyway",
                    )
            return apply_task_status(task, dst, force=force, reason=reason, now=utc_now(), by=by)

        return self._change_status(task_id, change, by=by, reason=reason, force=force)

    def reopen(self, task_id: str, *, reason: str | None = None, by: str = "cli") -> Task:
        """done or cancelled -> backlog."""
        return self._change_status(
            task_id, lambda t, _c: reopened(t, now=utc_now(), by=by), by=by, reason=reason
        )

    def pause(self, task_id: str, *, reason: str | None = None, by: str = "cli") -> Task:
        """backlog, ready or blocked -> on-hold with ``paused`` set."""
        return self._change_status(
            task_id, lambda t, _c: paused(t, reason, now=utc_now(), by=by), by=by, reason=reason
        )

    def resume(self, task_id: str, *, by: str = "cli") -> Task:
        """on-hold -> ready (clears ``paused``)."""
        return self._change_status(task_id, lambda t, _c: resumed(t, now=utc_now(), by=by), by=by)

    def block(self, task_id: str, reason: str, *, by: str = "cli") -> Task:
        """Any unfinished status -> blocked, with a reason (required)."""
        if not reason or not reason.strip():
            raise InvalidInputError(
                "blocking a task needs a reason", hint="pass --reason 'what it waits for'"
            )
        return self._change_status(
            task_id,
            lambda t, _c: blocked(t, reason.strip(), now=utc_now(), by=by),
            by=by,
            reason=reason,
        )

    # -- dependencies ------------------------------------------------------------------------

    def add_dependency(
        self,
        task_id: str,
        depends_on: str,
        dependency_type: DependencyType | str = DependencyType.BLOCKED_BY,
        *,
        by: str = "cli",
    ) -> Task:
        dep_type = DependencyType.parse(dependency_type)
        dep_id = canonical_task_id(depends_on)

        def change(task: Task, conn: sqlite3.Connection) -> tuple[Task, dict[str, Any]]:
            if dep_id == task.id:
                raise InvalidInputError(
                    f"{task.id} cannot depend on itself",
                    details={"task_id": task.id},
                    hint="name a different task as the dependency",
                )
            load_task(conn, dep_id)
            if any(
                d.task_id == dep_id and d.dependency_type is dep_type for d in task.dependencies
            ):
                return task, {}
            if dep_type is DependencyType.BLOCKED_BY:
                path = blocked_by_path(conn, dep_id, task.id)
                if path is not None:
                    cycle = " -> ".join([task.id, *path])
                    raise ConflictError(
                        f"adding {task.id} blocked-by {dep_id} would make a cycle: {cycle}",
                        details={
                            "task_id": task.id,
                            "depends_on": dep_id,
                            "cycle": [task.id, *path],
                        },
                        hint="remove one of the dependencies in the cycle first",
                    )
            out = task.model_copy(deep=True)
            out.dependencies.append(TaskDependency(task_id=dep_id, dependency_type=dep_type))
            return out, {"depends_on": dep_id, "dependency_type": dep_type}

        return self._mutate_conn(task_id, change, "task.dependency-added", "dependency added", by)

    def remove_dependency(
        self,
        task_id: str,
        depends_on: str,
        dependency_type: DependencyType | str | None = None,
        *,
        by: str = "cli",
    ) -> Task:
        """Remove the edge(s) on ``depends_on`` (of one type, or every type)."""
        dep_type = None if dependency_type is None else DependencyType.parse(dependency_type)
        dep_id = canonical_task_id(depends_on)

        def change(task: Task, _conn: sqlite3.Connection) -> tuple[Task, dict[str, Any]]:
            keep = [
                d
                for d in task.dependencies
                if not (d.task_id == dep_id and (dep_type is None or d.dependency_type is dep_type))
            ]
            if len(keep) == len(task.dependencies):
                raise NotFoundError(
                    f"{task.id} has no dependency on {dep_id}",
                    details={"task_id": task.id, "depends_on": dep_id},
                    hint=f"see its dependencies with 'animus task get {task.id}'",
                )
            out = task.model_copy(deep=True)
            out.dependencies = keep
            return out, {"depends_on": dep_id}

        return self._mutate_conn(
            task_id, change, "task.dependency-removed", "dependency removed", by
        )

    def comment(self, task_id: str, text: str, *, by: str = "cli") -> Task:
        """Record a comment in the task's history (the task itself is unchanged)."""
        if not text or not text.strip():
            raise InvalidInputError("a comment needs text", hint="pass the comment text")
        tid = canonical_task_id(task_id)
        with self._db.transaction() as conn:
            task = load_task(conn, tid)
            record_subject_event(
                conn,
                "task.commented",
                subject_id=tid,
                is_task=True,
                message=text.strip(),
                data={"by": by},
            )
        return task

    # -- checklist, assignee, priority, deadline ----------------------------------------------

    def checklist_add(self, task_id: str, description: str, *, by: str = "cli") -> Task:
        if not description or not description.strip():
            raise InvalidInputError(
                "a checklist item needs a description", hint="pass the item text"
            )

        def change(task: Task) -> tuple[Task, dict[str, Any]]:
            out = task.model_copy(deep=True)
            numbers = [
                int(i.id[5:])
                for i in task.checklist
                if i.id.startswith("item-") and i.id[5:].isdigit()
            ]
            item_id = f"item-{max(numbers, default=0) + 1}"
            out.checklist.append(ChecklistItem(id=item_id, description=description.strip()))
            return out, {"item_id": item_id}

        return self._mutate(task_id, change, "task.checklist-added", "checklist item added", by)

    def checklist_update(
        self,
        task_id: str,
        item_id: str,
        *,
        completed: bool | None = None,
        description: str | None = None,
        by: str = "cli",
    ) -> Task:
        def change(task: Task) -> tuple[Task, dict[str, Any]]:
            out = task.model_copy(deep=True)
            for item in out.checklist:
                if item.id == item_id:
                    if description is not None and description.strip():
                        item.description = description.strip()
                    if completed is not None and completed != item.completed:
                        item.completed = completed
                        item.completed_at = utc_now() if completed else None
                    if out == task:
                        return task, {}
                    return out, {"item_id": item_id, "completed": item.completed}
            raise NotFoundError(
                f"{task.id} has no checklist item {item_id}",
                details={
                    "task_id": task.id,
                    "item_id": item_id,
                    "items": [i.id for i in task.checklist],
                },
                hint=f"see its checklist with 'animus task get {task.id}'",
            )

        return self._mutate(task_id, change, "task.checklist-updated", "checklist item updated", by)

    def assign(
        self,
        task_id: str,
        assignee: str | None,
        *,
        assignee_type: str = "human",
        model: str | None = None,
        by: str = "cli",
    ) -> Task:
        """Assign to a human (user id) or an agent (role, optional model); None unassigns."""
        value = assignee_value(assignee, assignee_type=assignee_type, model=model)

        def change(task: Task) -> tuple[Task, dict[str, Any]]:
            if task.assignee == value:
                return task, {}
            out = task.model_copy(deep=True)
            out.assignee = value
            return out, {"assignee": value.model_dump()}

        return self._mutate(task_id, change, "task.assigned", "assigned", by)

    def set_priority(self, task_id: str, priority: Priority | str, *, by: str = "cli") -> Task:
        return self.update(task_id, priority=Priority.parse(priority), by=by)

    def set_deadline(
        self, task_id: str, deadline: datetime | str | None, *, by: str = "cli"
    ) -> Task:
        return self.update(task_id, deadline=deadline, by=by)

    # -- plumbing ----------------------------------------------------------------------------------

    def _mutate(
        self,
        task_id: str,
        change: Callable[[Task], tuple[Task, dict[str, Any]]],
        event_type: str,
        verb: str,
        by: str,
    ) -> Task:
        return self._mutate_conn(task_id, lambda t, _c: change(t), event_type, verb, by)

    def _mutate_conn(
        self,
        task_id: str,
        change: Callable[[Task, sqlite3.Connection], tuple[Task, dict[str, Any]]],
        event_type: str,
        verb: str,
        by: str,
    ) -> Task:
        tid = canonical_task_id(task_id)
        with self._db.transaction() as conn:
            task = load_task(conn, tid)
            out, data = change(task, conn)
            if out is task:
                return task
            out.touch(utc_now(), by)
            save_task(conn, out)
            record_subject_event(
                conn,
                event_type,
                subject_id=tid,
                is_task=True,
                message=f"{verb} {tid}",
                data={**data, "by": by},
            )
        return out

    def _change_status(
        self,
        task_id: str,
        change: Callable[[Task, sqlite3.Connection], Task],
        *,
        by: str,
        reason: str | None = None,
        force: bool = False,
    ) -> Task:
        tid = canonical_task_id(task_id)
        with self._db.transaction() as conn:
            task = load_task(conn, tid)
            out = change(task, conn)
            if out is task:
                return task
            save_task(conn, out)
            data: dict[str, Any] = {"from": task.status, "to": out.status, "by": by}
            if reason:
                data["reason"] = reason
            if force:
                data["forced"] = True
            record_subject_event(
                conn,
                "task.status-changed",
                subject_id=tid,
                is_task=True,
                message=f"{tid}: {task.status.value} -> {out.status.value}",
                data=data,
            )
        if out.status in _WAKES_DISPATCH:
            # A ready task, or a finished one its dependents were waiting for, may be
            # dispatchable now.
            self._hub.nudge_daemon("task-status")
        return out
