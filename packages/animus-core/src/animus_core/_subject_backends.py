"""The built-in subject backends: tasks and requirements seen as normalized subjects.

Normalized status mapping (``native_status`` always carries the original):

* task: backlog, ready → ready; in-progress → in-progress; blocked, on-hold → blocked;
  done → done; cancelled → cancelled.
* requirement: draft, refined, approved, planned → ready; po-review, em-review,
  in-progress → in-progress; needs-rework → blocked; done, implemented → done;
  deprecated → cancelled.

Subject ``priority`` is 1 (most urgent) .. 4: critical/high/medium/low for tasks,
must/should/could/wont for requirements; ``custom.priority`` keeps the native name. Create
and update take native fields through ``custom`` (``type``, ``priority``, ``title``,
``description``, ``category``, ``acceptance_criteria`` ...).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from animus_core._subject_model import SubjectPage, SubjectQuery
from animus_core._subject_requirement_rows import RequirementFilter
from animus_core._task_query import TaskFilter
from animus_core._task_rows import assignee_label
from animus_plugin_protocol import (
    StatusDispatchHint,
    Subject,
    SubjectCreateParams,
    SubjectPatch,
    SubjectSchema,
    SubjectStatus,
)
from animus_protocol.envelope import InvalidInputError
from animus_protocol.requirement import Requirement
from animus_protocol.statuses import (
    Priority,
    RequirementPriority,
    RequirementStatus,
    TaskStatus,
)
from animus_protocol.subjects import KIND_REQUIREMENT, KIND_TASK
from animus_protocol.task import Task
from animus_protocol.timeutil import format_rfc3339

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = [
    "REQUIREMENT_STATUS_MAP",
    "TASK_STATUS_MAP",
    "RequirementSubjectBackend",
    "TaskSubjectBackend",
    "requirement_to_subject",
    "task_to_subject",
]

_S = SubjectStatus
TASK_STATUS_MAP: Mapping[TaskStatus, SubjectStatus] = {
    TaskStatus.BACKLOG: _S.READY,
    TaskStatus.READY: _S.READY,
    TaskStatus.IN_PROGRESS: _S.IN_PROGRESS,
    TaskStatus.BLOCKED: _S.BLOCKED,
    TaskStatus.ON_HOLD: _S.BLOCKED,
    TaskStatus.DONE: _S.DONE,
    TaskStatus.CANCELLED: _S.CANCELLED,
}
_R = RequirementStatus
REQUIREMENT_STATUS_MAP: Mapping[RequirementStatus, SubjectStatus] = {
    _R.DRAFT: _S.READY,
    _R.REFINED: _S.READY,
    _R.APPROVED: _S.READY,
    _R.PLANNED: _S.READY,
    _R.PO_REVIEW: _S.IN_PROGRESS,
    _R.EM_REVIEW: _S.IN_PROGRESS,
    _R.IN_PROGRESS: _S.IN_PROGRESS,
    _R.NEEDS_REWORK: _S.BLOCKED,
    _R.DONE: _S.DONE,
    _R.IMPLEMENTED: _S.DONE,
    _R.DEPRECATED: _S.CANCELLED,
}
# Setting a normalized status on a requirement picks this native status.
_REQUIREMENT_FROM_SUBJECT: Mapping[SubjectStatus, RequirementStatus] = {
    _S.READY: _R.APPROVED,
    _S.IN_PROGRESS: _R.IN_PROGRESS,
    _S.BLOCKED: _R.NEEDS_REWORK,
    _S.DONE: _R.DONE,
    _S.CANCELLED: _R.DEPRECATED,
}
_TASK_PRIORITIES = [Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW]
_REQ_PRIORITIES = [
    RequirementPriority.MUST,
    RequirementPriority.SHOULD,
    RequirementPriority.COULD,
    RequirementPriority.WONT,
]


def _priority_from_number(value: int, names: builtins.list[Any]) -> Any:
    if not 1 <= value <= len(names):
        raise InvalidInputError(
            f"priority {value} is out of range: use 1 (most urgent) to {len(names)}",
            hint=f"or name it: {', '.join(str(n.value) for n in names)}",
        )
    return names[value - 1]


def _hints(mapping: Mapping[Any, SubjectStatus]) -> builtins.list[StatusDispatchHint]:
    return [StatusDispatchHint(native_status=k.value, maps_to=v) for k, v in mapping.items()]


def _statuses_for(
    values: tuple[str, ...],
    native: type[TaskStatus] | type[RequirementStatus],
    mapping: Mapping[Any, SubjectStatus],
) -> tuple[str, ...]:
    out: builtins.list[str] = []
    for value in values:
        member = native.lookup(value)
        if member is not None:
            out.append(member.value)
            continue
        try:
            normalized = SubjectStatus(value.strip().lower().replace("_", "-"))
        except ValueError:
            raise InvalidInputError(
                f"unknown status {value!r}",
                details={"status": value},
                hint=f"use one of: {native.accepted()}",
            ) from None
        out += [k.value for k, v in mapping.items() if v is normalized]
    return tuple(dict.fromkeys(out))


def task_to_subject(task: Task) -> Subject:
    custom: dict[str, Any] = {"type": task.task_type.value, "priority": task.priority.value}
    blocked_by = task.blocking_dependency_ids()
    if blocked_by:
        custom["blocked_by"] = blocked_by
    if task.deadline is not None:
        custom["deadline"] = format_rfc3339(task.deadline)
    if task.linked_requirements:
        custom["linked_requirements"] = list(task.linked_requirements)
    status_metadata = None
    if task.blocked_reason or task.paused:
        status_metadata = {"blocked_reason": task.blocked_reason, "paused": task.paused}
    return Subject(
        id=task.id,
        kind=KIND_TASK,
        title=task.title,
        status=TASK_STATUS_MAP[task.status],
        native_status=task.status.value,
        created_at=format_rfc3339(task.metadata.created_at),
        updated_at=format_rfc3339(task.metadata.updated_at),
        description=task.description or None,
        priority=task.priority.rank + 1,
        assignee=assignee_label(task),
        labels=list(task.tags),
        custom=custom,
        status_metadata=status_metadata,
    )


def requirement_to_subject(req: Requirement) -> Subject:
    custom: dict[str, Any] = {
        "type": req.requirement_type.value,
        "priority": req.priority.value,
        "rework_count": req.rework_count,
    }
    if req.category:
        custom["category"] = req.category
    if req.acceptance_criteria:
        custom["acceptance_criteria"] = list(req.acceptance_criteria)
    return Subject(
        id=req.id,
        kind=KIND_REQUIREMENT,
        title=req.title,
        status=REQUIREMENT_STATUS_MAP[req.status],
        native_status=req.status.value,
        created_at=format_rfc3339(req.created_at),
        updated_at=format_rfc3339(req.updated_at),
        description=req.description or None,
        priority=_REQ_PRIORITIES.index(req.priority) + 1,
        labels=list(req.tags),
        children=list(req.linked_task_ids),
        custom=custom,
    )


def _labels_after(current: builtins.list[str], patch: SubjectPatch) -> builtins.list[str]:
    removed = set(patch.labels_remove)
    return [t for t in dict.fromkeys([*current, *patch.labels_add]) if t not in removed]


class TaskSubjectBackend:
    kind = KIND_TASK

    def __init__(self, hub: ServiceHub) -> None:
        self._hub = hub

    def schema(self) -> SubjectSchema:
        return SubjectSchema(
            kinds=[self.kind],
            status_values=list(SubjectStatus),
            supports_create=True,
            supports_delete=True,
            supports_pagination=True,
            native_status_values=[s.value for s in TaskStatus],
            status_dispatch_hints=_hints(TASK_STATUS_MAP),
        )

    def list(self, query: SubjectQuery) -> SubjectPage:
        page = self._hub.tasks.list(
            TaskFilter(
                status=_statuses_for(query.status, TaskStatus, TASK_STATUS_MAP),
                tags=query.labels,
                assignee=query.assignee,
                search=query.search,
                limit=query.limit,
                offset=query.offset,
                sort=query.sort,  # type: ignore[arg-type]  # checked by the task query
            )
        )
        return SubjectPage(
            items=[task_to_subject(t) for t in page.items],
            total=page.total,
            limit=page.limit,
            offset=page.offset,
        )

    def get(self, subject_id: str) -> Subject:
        return task_to_subject(self._hub.tasks.get(subject_id))

    def create(self, params: SubjectCreateParams) -> Subject:
        custom = dict(params.custom or {})
        priority = custom.pop("priority", None)
        if priority is None and params.priority is not None:
            priority = _priority_from_number(params.priority, _TASK_PRIORITIES).value
        description = params.description or params.body or ""
        task = self._hub.tasks.create(
            title=params.title,
            description=description,
            task_type=str(custom.pop("type", "feature")),
            priority=str(priority or "medium"),
            tags=params.labels or (),
            status=params.status.value if params.status else str(custom.pop("status", "backlog")),
            assignee=params.assignee,
            deadline=custom.pop("deadline", None),
            created_by=str(custom.pop("created_by", "cli")),
        )
        return task_to_subject(task)

    def update(self, subject_id: str, patch: SubjectPatch) -> Subject:
        tasks = self._hub.tasks
        task = tasks.get(subject_id)
        changes: dict[str, Any] = dict(patch.custom)
        if "type" in changes:
            changes["task_type"] = changes.pop("type")
        if patch.labels_add or patch.labels_remove:
            changes["tags"] = _labels_after(task.tags, patch)
        if patch.assignee_given:
            changes["assignee"] = patch.assignee
        if changes:
            task = tasks.update(task.id, **changes)
        if patch.comment:
            tasks.comment(task.id, patch.comment)
        if patch.status is not None:
            task = tasks.set_status(task.id, patch.status.value)
        return task_to_subject(task)

    def set_status(self, subject_id: str, status: str, force: bool = False) -> Subject:
        return task_to_subject(self._hub.tasks.set_status(subject_id, status, force=force))

    def next(self) -> Subject | None:
        task = self._hub.tasks.next()
        return None if task is None else task_to_subject(task)

    def delete(self, subject_id: str) -> Subject:
        return task_to_subject(self._hub.tasks.delete(subject_id))


class RequirementSubjectBackend:
    kind = KIND_REQUIREMENT

    def __init__(self, hub: ServiceHub) -> None:
        self._hub = hub

    def schema(self) -> SubjectSchema:
        return SubjectSchema(
            kinds=[self.kind],
            status_values=list(SubjectStatus),
            supports_create=True,
            supports_delete=True,
            supports_pagination=True,
            native_status_values=[s.value for s in RequirementStatus],
            status_dispatch_hints=_hints(REQUIREMENT_STATUS_MAP),
        )

    def list(self, query: SubjectQuery) -> SubjectPage:
        if query.assignee is not None:
            raise InvalidInputError(
                "requirements have no assignee to filter on",
                hint="drop --assignee, or list tasks instead",
            )
        page = self._hub.requirements.list(
            RequirementFilter(
                status=_statuses_for(query.status, RequirementStatus, REQUIREMENT_STATUS_MAP),
                tags=query.labels,
                search=query.search,
                limit=query.limit,
                offset=query.offset,
                sort=query.sort,  # type: ignore[arg-type]  # checked by the requirement query
            )
        )
        return SubjectPage(
            items=[requirement_to_subject(r) for r in page.items],
            total=page.total,
            limit=page.limit,
            offset=page.offset,
        )

    def get(self, subject_id: str) -> Subject:
        return requirement_to_subject(self._hub.requirements.get(subject_id))

    def create(self, params: SubjectCreateParams) -> Subject:
        custom = dict(params.custom or {})
        priority = custom.pop("priority", None)
        if priority is None and params.priority is not None:
            priority = _priority_from_number(params.priority, _REQ_PRIORITIES).value
        status = custom.pop("status", None)
        if params.status is not None:
            status = _REQUIREMENT_FROM_SUBJECT[params.status].value
        criteria = custom.pop("acceptance_criteria", ())
        req = self._hub.requirements.create(
            title=params.title,
            description=params.description or "",
            body=params.body,
            category=custom.pop("category", None),
            requirement_type=str(custom.pop("type", "functional")),
            priority=str(priority or "should"),
            status=str(status or "draft"),
            tags=params.labels or (),
            acceptance_criteria=[criteria] if isinstance(criteria, str) else list(criteria),
        )
        return requirement_to_subject(req)

    def update(self, subject_id: str, patch: SubjectPatch) -> Subject:
        reqs = self._hub.requirements
        req = reqs.get(subject_id)
        if patch.assignee_given:
            raise InvalidInputError(
                "requirements have no assignee", hint="assign the tasks materialized from it"
            )
        changes: dict[str, Any] = dict(patch.custom)
        if "type" in changes:
            changes["requirement_type"] = changes.pop("type")
        if patch.labels_add or patch.labels_remove:
            changes["tags"] = _labels_after(req.tags, patch)
        if changes:
            req = reqs.update(req.id, **changes)
        if patch.comment:
            req = reqs.comment(req.id, patch.comment)
        if patch.status is not None:
            return self.set_status(req.id, patch.status.value)
        return requirement_to_subject(req)

    def set_status(self, subject_id: str, status: str, force: bool = False) -> Subject:
        native = RequirementStatus.lookup(status)
        if native is None:
            try:
                native = _REQUIREMENT_FROM_SUBJECT[SubjectStatus(status.strip().lower())]
            except ValueError:
                RequirementStatus.parse(status)  # raises with the accepted values
                raise
        return requirement_to_subject(
            self._hub.requirements.set_status(subject_id, native, force=force)
        )

    def next(self) -> Subject | None:
        """The most urgent requirement that is ready for work (approved, then planned)."""
        for status in (_R.APPROVED, _R.PLANNED, _R.REFINED, _R.DRAFT):
            page = self._hub.requirements.list(RequirementFilter(status=(status.value,), limit=1))
            if page.items:
                return requirement_to_subject(page.items[0])
        return None

    def delete(self, subject_id: str) -> Subject:
        return requirement_to_subject(self._hub.requirements.delete(subject_id))
