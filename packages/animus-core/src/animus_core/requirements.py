"""Requirements (spec §5.3): CRUD, the review lifecycle and materialization into tasks.

Lifecycle events (``refine``, ``submit-review``, ``po-pass``, ``po-fail``, ``em-pass``,
``em-fail``) go through :func:`animus_protocol.transitions.apply_requirement_event`; the fail
edges consume the rework budget (``rework_count`` is persisted, so it survives restarts).
Direct status moves are validated unless forced.

Materialization makes ONE task per requirement (title and description copied, acceptance
criteria become the task's checklist, MoSCoW priority mapped must→high, should→medium,
could/wont→low, tags copied, ``linked_requirements=[REQ-id]``). It is idempotent: a
requirement that already has a linked task (either direction of the link) reuses it.
``wont`` requirements are skipped unless ``include_wont``; deprecated ones always are.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from animus_core._subject_history import record_subject_event
from animus_core._subject_requirement_rows import (
    RequirementFilter,
    RequirementPage,
    canonical_requirement_id,
    delete_requirement_row,
    load_requirement,
    query_requirements,
    save_requirement,
)
from animus_core._task_rows import parse_record, parse_task, save_task
from animus_protocol.envelope import ConflictError, InvalidInputError
from animus_protocol.ids import REQUIREMENT_PREFIX
from animus_protocol.requirement import Requirement, RequirementComment, RequirementsExecutionResult
from animus_protocol.statuses import (
    RequirementPriority,
    RequirementStatus,
    RequirementType,
)
from animus_protocol.task import ChecklistItem, Task
from animus_protocol.timeutil import utc_now
from animus_protocol.transitions import (
    DEFAULT_REWORK_BUDGET,
    RequirementEvent,
    apply_requirement_event,
    apply_requirement_status,
)

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub
    from animus_store import Database

__all__ = [
    "REQUIREMENT_UPDATABLE_FIELDS",
    "RequirementFilter",
    "RequirementPage",
    "RequirementService",
]

REQUIREMENT_UPDATABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "body",
        "category",
        "requirement_type",
        "acceptance_criteria",
        "priority",
        "source",
        "tags",
        "relative_path",
        "links",
    }
)
_TASK_PRIORITY = {
    RequirementPriority.MUST: "high",
    RequirementPriority.SHOULD: "medium",
    RequirementPriority.COULD: "low",
    RequirementPriority.WONT: "low",
}


def _clean(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


class RequirementService:
    def __init__(self, hub: ServiceHub, *, rework_budget: int = DEFAULT_REWORK_BUDGET) -> None:
        self._hub = hub
        self.rework_budget = rework_budget

    @property
    def _db(self) -> Database:
        return self._hub.db

    # -- reads -----------------------------------------------------------------------------

    def get(self, requirement_id: str) -> Requirement:
        with self._db.read() as conn:
            return load_requirement(conn, canonical_requirement_id(requirement_id))

    def list(self, flt: RequirementFilter | None = None) -> RequirementPage:
        with self._db.read() as conn:
            return query_requirements(conn, flt or RequirementFilter())

    def count_by_status(self) -> dict[str, int]:
        counts = {s.value: 0 for s in RequirementStatus}
        with self._db.read() as conn:
            for status, n in conn.execute(
                "SELECT status, COUNT(*) FROM requirements GROUP BY status"
            ):
                counts[str(status)] = int(n)
        return counts

    # -- writes -------------------------------------------------------------------------------

    def create(
        self,
        *,
        title: str,
        description: str = "",
        body: str | None = None,
        category: str | None = None,
        requirement_type: str = "functional",
        priority: str = "should",
        status: str = "draft",
        source: str = "",
        tags: Iterable[str] = (),
        acceptance_criteria: Iterable[str] = (),
        created_by: str = "cli",
    ) -> Requirement:
        if not title or not title.strip():
            raise InvalidInputError(
                "a requirement needs a non-empty title", hint="pass --title 'what is needed'"
            )
        now = utc_now()
        with self._db.transaction() as conn:
            req = Requirement(
                id=self._db.next_id(REQUIREMENT_PREFIX),
                title=title.strip(),
                description=description,
                body=body,
                category=category,
                type=RequirementType.parse(requirement_type),
                priority=RequirementPriority.parse(priority),
                status=RequirementStatus.parse(status),
                source=source,
                tags=_clean(tags),
                acceptance_criteria=_clean(acceptance_criteria),
                created_at=now,
                updated_at=now,
            )
            save_requirement(conn, req)
            record_subject_event(
                conn,
                "requirement.created",
                subject_id=req.id,
                is_task=False,
                message=f"created {req.id}: {req.title}",
                data={"status": req.status, "by": created_by},
            )
        return req

    def update(self, requirement_id: str, *, by: str = "cli", **changes: Any) -> Requirement:
        unknown = sorted(set(changes) - REQUIREMENT_UPDATABLE_FIELDS)
        if unknown:
            raise InvalidInputError(
                f"cannot update {', '.join(unknown)} on a requirement",
                details={"fields": unknown, "accepted": sorted(REQUIREMENT_UPDATABLE_FIELDS)},
                hint="change status with 'animus requirement status' or 'transition'",
            )
        values = dict(changes)
        if values.get("priority") is not None:
            values["priority"] = RequirementPriority.parse(values["priority"])
        if values.get("requirement_type") is not None:
            values["requirement_type"] = RequirementType.parse(values["requirement_type"])
        for key in ("tags", "acceptance_criteria"):
            if key in values:
                values[key] = _clean(values[key])
        if "title" in values and not str(values["title"]).strip():
            raise InvalidInputError("a requirement title cannot be empty", hint="pass a --title")

        with self._db.transaction() as conn:
            req = load_requirement(conn, canonical_requirement_id(requirement_id))
            data = req.model_dump(by_alias=False)
            data.update(values)
            try:
                out = Requirement.model_validate(data)
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first.get("loc", ()))
                raise InvalidInputError(
                    f"invalid {field}: {first.get('msg')}",
                    hint="check 'animus requirement update --help'",
                ) from None
            if out == req:
                return req
            out.updated_at = utc_now()
            save_requirement(conn, out)
            record_subject_event(
                conn,
                "requirement.updated",
                subject_id=out.id,
                is_task=False,
                message=f"updated {out.id}",
                data={"changes": sorted(values), "by": by},
            )
        return out

    def comment(
        self, requirement_id: str, content: str, *, author: str = "cli", phase: str | None = None
    ) -> Requirement:
        if not content.strip():
            raise InvalidInputError("a comment needs text", hint="pass the comment text")
        with self._db.transaction() as conn:
            req = load_requirement(conn, canonical_requirement_id(requirement_id))
            out = req.model_copy(deep=True)
            out.comments.append(RequirementComment(author=author, content=content, phase=phase))
            out.updated_at = utc_now()
            save_requirement(conn, out)
        return out

    def delete(self, requirement_id: str, *, by: str = "cli") -> Requirement:
        """Delete a requirement and drop its id from tasks' ``linked_requirements``."""
        rid = canonical_requirement_id(requirement_id)
        with self._db.transaction() as conn:
            req = load_requirement(conn, rid)
            unlinked = []
            for task in _tasks_linked_to(conn, rid):
                out = task.model_copy(deep=True)
                out.linked_requirements = [r for r in out.linked_requirements if r != rid]
                out.touch(utc_now(), by)
                save_task(conn, out)
                unlinked.append(task.id)
            delete_requirement_row(conn, rid)
            record_subject_event(
                conn,
                "requirement.deleted",
                subject_id=rid,
                is_task=False,
                message=f"deleted {rid}: {req.title}",
                data={"by": by, "tasks_unlinked": unlinked},
            )
        return req

    # -- lifecycle -------------------------------------------------------------------------------

    def transition(
        self, requirement_id: str, event: RequirementEvent | str, *, by: str = "cli"
    ) -> Requirement:
        ev = RequirementEvent.parse(event)
        with self._db.transaction() as conn:
            req = load_requirement(conn, canonical_requirement_id(requirement_id))
            try:
                out = apply_requirement_event(req, ev, now=utc_now(), budget=self.rework_budget)
            except ConflictError as exc:
                if exc.hint is None:
                    accepted = exc.details.get("accepted") or []
                    exc.hint = (
                        f"apply one of: {', '.join(accepted)}"
                        if accepted
                        else f"{req.id} is {req.status.value}; move it with "
                        "'animus requirement status' (or --force)"
                    )
                raise
            save_requirement(conn, out)
            record_subject_event(
                conn,
                "requirement.transitioned",
                subject_id=out.id,
                is_task=False,
                message=f"{out.id}: {ev.value} ({req.status.value} -> {out.status.value})",
                data={
                    "event": ev,
                    "from": req.status,
                    "to": out.status,
                    "rework_count": out.rework_count,
                    "by": by,
                },
            )
        return out

    def set_status(
        self,
        requirement_id: str,
        status: RequirementStatus | str,
        *,
        force: bool = False,
        by: str = "cli",
    ) -> Requirement:
        dst = RequirementStatus.parse(status)
        with self._db.transaction() as conn:
            req = load_requirement(conn, canonical_requirement_id(requirement_id))
            out = apply_requirement_status(req, dst, force=force, now=utc_now())
            if out is req:
                return req
            save_requirement(conn, out)
            data: dict[str, Any] = {"from": req.status, "to": out.status, "by": by}
            if force:
                data["forced"] = True
            record_subject_event(
                conn,
                "requirement.status-changed",
                subject_id=out.id,
                is_task=False,
                message=f"{out.id}: {req.status.value} -> {out.status.value}",
                data=data,
            )
        return out

    # -- materialization -------------------------------------------------------------------------

    def materialize(
        self,
        requirement_ids: Iterable[str] = (),
        *,
        include_wont: bool = False,
        by: str = "cli",
    ) -> RequirementsExecutionResult:
        """One task per requirement (see the module doc); no ids means every requirement."""
        ids = [canonical_requirement_id(r) for r in requirement_ids]
        result = RequirementsExecutionResult()
        tasks = self._hub.tasks
        with self._db.transaction() as conn:
            if ids:
                reqs = [load_requirement(conn, rid) for rid in dict.fromkeys(ids)]
            else:
                reqs = [
                    parse_record(Requirement, r[0], "a requirement")
                    for r in conn.execute("SELECT json FROM requirements ORDER BY number, id")
                ]
            for req in reqs:
                if req.status is RequirementStatus.DEPRECATED:
                    continue
                if req.priority is RequirementPriority.WONT and not include_wont:
                    continue
                result.requirements_considered += 1
                existing = self._linked_task_ids(conn, req)
                if existing:
                    result.task_ids_reused.extend(existing)
                    task_ids = existing
                else:
                    task = tasks.create(
                        title=req.title,
                        description=_task_description(req),
                        priority=_TASK_PRIORITY[req.priority],
                        tags=req.tags,
                        linked_requirements=[req.id],
                        created_by=by,
                    )
                    if req.acceptance_criteria:
                        task = task.model_copy(deep=True)
                        task.checklist = [
                            ChecklistItem(id=f"item-{n}", description=text)
                            for n, text in enumerate(req.acceptance_criteria, start=1)
                        ]
                        save_task(conn, task)
                    result.task_ids_created.append(task.id)
                    task_ids = [task.id]
                out = req.model_copy(deep=True)
                out.linked_task_ids = list(dict.fromkeys([*out.linked_task_ids, *task_ids]))
                out.links.tasks = list(dict.fromkeys([*out.links.tasks, *task_ids]))
                if out != req:
                    out.updated_at = utc_now()
                    save_requirement(conn, out)
                record_subject_event(
                    conn,
                    "requirement.materialized",
                    subject_id=req.id,
                    is_task=False,
                    message=f"{req.id}: tasks {', '.join(task_ids)}"
                    + (" (reused)" if existing else " (created)"),
                    data={"task_ids": task_ids, "reused": bool(existing), "by": by},
                )
        return result

    @staticmethod
    def _linked_task_ids(conn: sqlite3.Connection, req: Requirement) -> builtins.list[str]:
        found: list[str] = []
        for task_id in req.linked_task_ids:
            row = conn.execute("SELECT 1 FROM tasks WHERE id = ?", (task_id,)).fetchone()
            if row is not None:
                found.append(task_id)
        found += [t.id for t in _tasks_linked_to(conn, req.id)]
        return list(dict.fromkeys(found))


def _task_description(req: Requirement) -> str:
    parts = [p for p in (req.description, req.body or "") if p.strip()]
    parts.append(f"Implements requirement {req.id}.")
    return "\n\n".join(parts)


def _tasks_linked_to(conn: sqlite3.Connection, requirement_id: str) -> list[Task]:
    # The JSON text filter narrows the scan; the parsed list confirms the exact id.
    rows = conn.execute(
        "SELECT json FROM tasks WHERE json LIKE ? ORDER BY number",
        (f'%"{requirement_id}"%',),
    ).fetchall()
    tasks = [parse_task(r[0]) for r in rows]
    return [t for t in tasks if requirement_id in t.linked_requirements]
