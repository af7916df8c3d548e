"""``animus subject``: work items of any kind through the subject router.

Kind: ``--kind`` > ``default_subject_kind`` in ``.animus/config.json`` > error. Built-in
kinds are ``task`` and ``requirement`` (``animus.task``, ``animus.requirement``). Results are
normalized subjects (status ready|in-progress|blocked|done|cancelled, ``native_status`` the
backend's own). ``--status`` accepts native or normalized values.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from animus_cli.commands._subject_support import (
    ID_HELP,
    dry_run_or,
    emit_page,
    emit_record,
    line,
    resolve_id,
    split_values,
    unstuck_note,
)
from animus_cli.context import get_context
from animus_cli.output import emit

if TYPE_CHECKING:
    from animus_core.subjects import SubjectBackend
    from animus_plugin_protocol import Subject

__all__ = ["command"]

_COLUMNS = ("id", "status", "native", "priority", "labels", "title")

_KIND = click.option(
    "--kind", default=None, help="Subject kind (task, requirement, ...); default from config."
)
_ID = click.option("--id", "id_option", default=None, help=ID_HELP)


def _backend(kind: str | None) -> SubjectBackend:
    router = get_context().hub.subjects
    return router.backend(router.resolve_kind(kind))


def _row(subject: Subject) -> dict[str, Any]:
    return {
        "id": subject.id,
        "status": subject.status.value,
        "native": subject.native_status or "",
        "priority": (subject.custom or {}).get("priority", subject.priority),
        "labels": subject.labels,
        "title": subject.title,
    }


def _details(subject: Subject) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": subject.id,
        "kind": subject.kind,
        "title": subject.title,
        "status": subject.status.value,
        "native_status": subject.native_status or "",
        "priority": subject.priority,
        "assignee": subject.assignee or "",
        "labels": subject.labels,
    }
    if subject.children:
        out["children"] = subject.children
    out.update({f"custom.{k}": v for k, v in (subject.custom or {}).items()})
    out["created"] = subject.created_at
    out["updated"] = subject.updated_at
    if subject.description:
        out["description"] = subject.description
    return out


def _show(subject: Subject, message: str) -> None:
    emit(subject, human=line(message))


def _priority(value: str | None) -> tuple[int | None, str | None]:
    """``--priority 2`` is the normalized number; ``--priority high`` the native name."""
    if value is None:
        return None, None
    text = value.strip()
    return (int(text), None) if text.isdigit() else (None, text)


@click.group(name="subject")
def command() -> None:
    """Work items of any kind (tasks, requirements, plugin kinds) through one interface."""


@command.command(name="list")
@_KIND
@click.option("--status", multiple=True, help="Native or normalized status (repeat/comma).")
@click.option("--label", multiple=True, help="Only subjects carrying every label given.")
@click.option(
    "--assignee",
    default=None,
    help="Only subjects assigned to this user (tasks: user id or agent:<role>).",
)
@click.option("--search", default=None, help="Text in the id, title or description.")
@click.option(
    "--limit",
    type=click.IntRange(0, 10_000),
    default=50,
    show_default=True,
    help="At most this many items.",
)
@click.option(
    "--offset",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Skip this many items.",
)
def list_subjects(
    *,
    kind: str | None,
    status: tuple[str, ...],
    label: tuple[str, ...],
    assignee: str | None,
    search: str | None,
    limit: int,
    offset: int,
) -> None:
    """List subjects of one kind, most urgent first."""
    from animus_core.subjects import SubjectQuery

    page = _backend(kind).list(
        SubjectQuery(
            status=split_values(status),
            labels=split_values(label),
            assignee=assignee,
            search=search,
            limit=limit,
            offset=offset,
        )
    )
    emit_page(page, _COLUMNS, _row, "subjects")


@command.command(name="get")
@click.argument("subject_id", required=False)
@_ID
@_KIND
def get_subject(subject_id: str | None, id_option: str | None, kind: str | None) -> None:
    """Show one subject."""
    sid = resolve_id(subject_id, id_option)
    emit_record(_backend(kind).get(sid), _details)


@command.command(name="create")
@_KIND
@click.option("--title", required=True, help="What the subject is about.")
@click.option("--body", default=None, help="Description / body text.")
@click.option("--priority", default=None, help="1 (most urgent) .. 4, or a native name.")
@click.option("--label", "labels", multiple=True, help="A label (repeat or comma list).")
@click.option("--status", default=None, help="Initial status (native or normalized).")
@click.option("--assignee", default=None, help="Who works on it (tasks: user id or agent:<role>).")
def create_subject(
    *,
    kind: str | None,
    title: str,
    body: str | None,
    priority: str | None,
    labels: tuple[str, ...],
    status: str | None,
    assignee: str | None,
) -> None:
    """Create a subject."""
    from animus_plugin_protocol import SubjectCreateParams, SubjectStatus

    number, name = _priority(priority)
    custom: dict[str, Any] = {}
    if name is not None:
        custom["priority"] = name
    normalized = None
    if status is not None:
        try:
            normalized = SubjectStatus(status.strip().lower().replace("_", "-"))
        except ValueError:
            custom["status"] = status
    params = SubjectCreateParams(
        title=title,
        description=body,
        priority=number,
        labels=list(split_values(labels)) or None,
        status=normalized,
        assignee=assignee,
        custom=custom or None,
    )
    subject = _backend(kind).create(params)
    _show(subject, f"created {subject.id} [{subject.native_status or subject.status.value}]")


@command.command(name="update")
@click.argument("subject_id", required=False)
@_ID
@_KIND
@click.option("--title", default=None, help="New title.")
@click.option("--description", default=None, help="New description.")
@click.option("--priority", default=None, help="A native priority name.")
@click.option("--label-add", multiple=True, help="Add a label (repeat or comma list).")
@click.option("--label-remove", multiple=True, help="Remove a label (repeat or comma list).")
@click.option("--assignee", default=None, help="Set the assignee ('none' clears).")
@click.option(
    "--comment", default=None, help="A comment (requirements keep it; tasks record it in history)."
)
@click.option("--status", default=None, help="Normalized status (validated).")
def update_subject(
    *,
    subject_id: str | None,
    id_option: str | None,
    kind: str | None,
    title: str | None,
    description: str | None,
    priority: str | None,
    label_add: tuple[str, ...],
    label_remove: tuple[str, ...],
    assignee: str | None,
    comment: str | None,
    status: str | None,
) -> None:
    """Patch a subject: fields, labels, assignee, comment, status."""
    from animus_plugin_protocol import SubjectPatch
    from animus_protocol.envelope import InvalidInputError

    patch: dict[str, Any] = {
        "labels_add": list(split_values(label_add)),
        "labels_remove": list(split_values(label_remove)),
        "custom": {
            k: v
            for k, v in (("title", title), ("description", description), ("priority", priority))
            if v is not None
        },
    }
    if assignee is not None:
        patch["assignee"] = None if assignee.strip().lower() in ("none", "") else assignee
    if comment is not None:
        patch["comment"] = comment
    if status is not None:
        patch["status"] = status.strip().lower().replace("_", "-")
    if not any(patch.values()) and "assignee" not in patch:
        raise InvalidInputError(
            "nothing to update", hint="pass a field, e.g. --title, --label-add or --status"
        )
    try:
        parsed = SubjectPatch.model_validate(patch)
    except ValueError as exc:
        raise InvalidInputError(
            f"invalid patch: {exc}",
            hint="--status takes ready, in-progress, blocked, done or cancelled here; "
            "use 'subject status' for native statuses",
        ) from None
    sid = resolve_id(subject_id, id_option)
    subject = _backend(kind).update(sid, parsed)
    _show(subject, f"updated {subject.id}")


@command.command(name="status")
@click.argument("subject_id", required=False)
@click.argument("status_arg", metavar="[STATUS]", required=False)
@_ID
@click.option("--status", "status_option", default=None, help="Status, positional or here.")
@_KIND
@click.option("--force", is_flag=True, help="Skip the transition check.")
def set_status(
    *,
    subject_id: str | None,
    status_arg: str | None,
    id_option: str | None,
    status_option: str | None,
    kind: str | None,
    force: bool,
) -> None:
    """Move a subject to a status (native or normalized; validated unless --force)."""
    from animus_protocol.envelope import InvalidInputError

    # `status --id X S` puts S in the first positional slot.
    if id_option and subject_id and not status_arg:
        subject_id, status_arg = None, subject_id
    status = status_arg or status_option
    if not status:
        raise InvalidInputError("missing status", hint="pass the status, e.g. ready or done")
    sid = resolve_id(subject_id, id_option)
    backend = _backend(kind)
    before = backend.get(sid)
    after = backend.set_status(sid, status, force=force)
    old = before.native_status or before.status.value
    new = after.native_status or after.status.value
    unstuck_note(after.id, old, new)
    _show(after, f"{after.id}: {old} -> {new}")


@command.command(name="next")
@_KIND
def next_subject(kind: str | None) -> None:
    """The next subject to work on (for tasks: ready, dependencies done, most urgent)."""
    subject = _backend(kind).next()
    if subject is None:
        emit(None, human=line("nothing ready"))
        return
    emit_record(subject, _details)


@command.command(name="delete")
@click.argument("subject_id", required=False)
@_ID
@_KIND
@click.option("--yes", is_flag=True, help="Really delete (otherwise a dry run).")
def delete_subject(
    subject_id: str | None, id_option: str | None, kind: str | None, yes: bool
) -> None:
    """Delete a subject (dry run unless --yes)."""
    sid = resolve_id(subject_id, id_option)
    backend = _backend(kind)
    subject = backend.get(sid)
    dry_run_or(
        yes,
        action="delete",
        target=subject.id,
        describe=f"delete {subject.kind} {subject.id}: {subject.title}",
        run=lambda: backend.delete(subject.id).id,
    )


@command.command(name="kinds")
def list_kinds() -> None:
    """Subject kinds this project can route, and the configured default."""
    router = get_context().hub.subjects
    kinds = router.kinds()
    default = router.default_kind()
    data = {"kinds": kinds, "default": default}

    def human(_: Any) -> None:
        canonical_default = router.resolve_kind(default) if default else None
        for kind in kinds:
            mark = "  (default)" if kind == canonical_default else ""
            sys.stdout.write(f"{kind}{mark}\n")

    emit(data, human=human)


@command.command(name="schema")
@_KIND
def show_schema(kind: str | None) -> None:
    """A kind's schema: statuses (native and normalized), capabilities."""
    schema = _backend(kind).schema()

    def human(_: Any) -> None:
        sys.stdout.write(f"kinds: {', '.join(schema.kinds)}\n")
        sys.stdout.write(
            f"create: {schema.supports_create}  delete: {schema.supports_delete}  "
            f"pagination: {schema.supports_pagination}  watch: {schema.supports_watch}\n"
        )
        for hint in schema.status_dispatch_hints:
            sys.stdout.write(f"  {hint.native_status:14s} -> {hint.maps_to.value}\n")

    emit(schema, human=human)
