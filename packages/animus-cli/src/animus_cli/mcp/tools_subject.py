"""``animus.subject.*``: work items of any kind, the same calls as ``animus subject``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from animus_cli.mcp._models import ToolInput, ToolSpec
from animus_cli.mcp._pagination import PageInput, with_next_offset
from animus_protocol.envelope import InvalidInputError

if TYPE_CHECKING:
    from animus_cli.mcp._context import ToolContext
    from animus_core.subjects import SubjectBackend

__all__ = ["SUBJECT_TOOLS"]

_KIND = Field(None, description="Subject kind (task, requirement, ...); default from config.")
_ID = Field(..., min_length=1, description="The subject's id, e.g. TASK-001.")


def _backend(ctx: ToolContext, project_root: str | None, kind: str | None) -> SubjectBackend:
    router = ctx.hub(project_root).subjects
    return router.backend(router.resolve_kind(kind))


def _status_text(value: str) -> str:
    return value.strip().lower().replace("_", "-")


class SubjectListInput(PageInput):
    kind: str | None = _KIND
    status: list[str] = Field(
        default_factory=list, description="Native or normalized statuses (any of)."
    )
    labels: list[str] = Field(default_factory=list, description="Only subjects with every label.")
    assignee: str | None = Field(None, description="Only subjects assigned to this user.")
    search: str | None = Field(None, description="Text in the id, title or description.")


def subject_list(ctx: ToolContext, args: SubjectListInput) -> dict[str, Any]:
    from animus_core.subjects import SubjectQuery

    page = _backend(ctx, args.project_root, args.kind).list(
        SubjectQuery(
            status=tuple(args.status),
            labels=tuple(args.labels),
            assignee=args.assignee,
            search=args.search,
            limit=args.limit,
            offset=args.offset,
        )
    )
    return with_next_offset(page, "items")


class SubjectGetInput(ToolInput):
    id: str = _ID
    kind: str | None = _KIND


def subject_get(ctx: ToolContext, args: SubjectGetInput) -> Any:
    return _backend(ctx, args.project_root, args.kind).get(args.id)


class SubjectCreateInput(ToolInput):
    title: str = Field(..., min_length=1, description="What the subject is about.")
    kind: str | None = _KIND
    description: str | None = Field(None, description="Description / body text.")
    priority: int | str | None = Field(
        None, description="1 (most urgent) .. 4, or a native name such as high."
    )
    labels: list[str] = Field(default_factory=list, description="Labels to attach.")
    status: str | None = Field(None, description="Initial status (native or normalized).")
    assignee: str | None = Field(None, description="Who works on it (user id or agent:<role>).")


def subject_create(ctx: ToolContext, args: SubjectCreateInput) -> Any:
    from animus_plugin_protocol import SubjectCreateParams, SubjectStatus

    custom: dict[str, Any] = {}
    number: int | None = None
    if isinstance(args.priority, int):
        number = args.priority
    elif args.priority is not None:
        if args.priority.isdigit():
            number = int(args.priority)
        else:
            custom["priority"] = args.priority
    normalized = None
    if args.status is not None:
        try:
            normalized = SubjectStatus(_status_text(args.status))
        except ValueError:
            custom["status"] = args.status
    params = SubjectCreateParams(
        title=args.title,
        description=args.description,
        priority=number,
        labels=list(args.labels) or None,
        status=normalized,
        assignee=args.assignee,
        custom=custom or None,
    )
    return _backend(ctx, args.project_root, args.kind).create(params)


class SubjectUpdateInput(ToolInput):
    id: str = _ID
    kind: str | None = _KIND
    title: str | None = Field(None, description="New title.")
    description: str | None = Field(None, description="New description.")
    priority: str | None = Field(None, description="A native priority name.")
    labels_add: list[str] = Field(default_factory=list, description="Labels to add.")
    labels_remove: list[str] = Field(default_factory=list, description="Labels to remove.")
    assignee: str | None = Field(None, description="New assignee ('none' clears it).")
    comment: str | None = Field(None, description="A comment recorded with the change.")
    status: str | None = Field(None, description="Normalized status (ready, done, ...).")


def subject_update(ctx: ToolContext, args: SubjectUpdateInput) -> Any:
    from animus_plugin_protocol import SubjectPatch

    patch: dict[str, Any] = {
        "labels_add": list(args.labels_add),
        "labels_remove": list(args.labels_remove),
        "custom": {
            k: v
            for k, v in (
                ("title", args.title),
                ("description", args.description),
                ("priority", args.priority),
            )
            if v is not None
        },
    }
    if args.assignee is not None:
        patch["assignee"] = None if args.assignee.lower() in ("none", "") else args.assignee
    if args.comment is not None:
        patch["comment"] = args.comment
    if args.status is not None:
        patch["status"] = _status_text(args.status)
    if not any(patch.values()) and "assignee" not in patch:
        raise InvalidInputError(
            "nothing to update", hint="pass a field, e.g. title, labels_add or status"
        )
    try:
        parsed = SubjectPatch.model_validate(patch)
    except ValueError as exc:
        raise InvalidInputError(
            f"invalid patch: {exc}",
            hint="status takes ready, in-progress, blocked, done or cancelled here; "
            "use animus.subject.status for native statuses",
        ) from None
    return _backend(ctx, args.project_root, args.kind).update(args.id, parsed)


class SubjectStatusInput(ToolInput):
    id: str = _ID
    status: str = Field(..., min_length=1, description="Native or normalized status.")
    kind: str | None = _KIND
    force: bool = Field(False, description="Skip the transition check.")


def subject_status(ctx: ToolContext, args: SubjectStatusInput) -> Any:
    return _backend(ctx, args.project_root, args.kind).set_status(
        args.id, args.status, force=args.force
    )


class SubjectNextInput(ToolInput):
    kind: str | None = _KIND


def subject_next(ctx: ToolContext, args: SubjectNextInput) -> Any:
    return _backend(ctx, args.project_root, args.kind).next()


SUBJECT_TOOLS = (
    ToolSpec(
        "animus.subject.list",
        "List subjects (tasks, requirements, plugin kinds) most urgent first. Filters: status, "
        "labels, assignee, search. Paged: limit (25, max 200), offset; result has items, "
        "total, next_offset.",
        SubjectListInput,
        subject_list,
    ),
    ToolSpec("animus.subject.get", "One subject by id.", SubjectGetInput, subject_get),
    ToolSpec(
        "animus.subject.create",
        "Create a subject (a task by default): title, description, priority, labels, status, "
        "assignee. Returns the new subject with its id.",
        SubjectCreateInput,
        subject_create,
        read_only=False,
    ),
    ToolSpec(
        "animus.subject.update",
        "Patch a subject: title, description, priority, labels_add/remove, assignee, comment, "
        "normalized status.",
        SubjectUpdateInput,
        subject_update,
        read_only=False,
    ),
    ToolSpec(
        "animus.subject.status",
        "Move a subject to a status (native or normalized; transition checked unless force).",
        SubjectStatusInput,
        subject_status,
        read_only=False,
    ),
    ToolSpec(
        "animus.subject.next",
        "The next subject to work on (ready, dependencies done, most urgent); null if none.",
        SubjectNextInput,
        subject_next,
    ),
)
