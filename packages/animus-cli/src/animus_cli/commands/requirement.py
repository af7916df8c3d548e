"""``animus requirement``: requirements, their review lifecycle, and materialization.

Lifecycle events: refine, submit-review, po-pass, po-fail, em-pass, em-fail (any case and
separator: ``PoPass`` works). Fail events use up the rework budget (3 rounds).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from animus_cli.commands._subject_support import (
    dry_run_or,
    emit_page,
    emit_record,
    line,
    pagination_options,
    split_values,
    unstuck_note,
)
from animus_cli.context import get_context
from animus_cli.output import emit

if TYPE_CHECKING:
    from animus_core.requirements import RequirementService
    from animus_protocol.requirement import Requirement

__all__ = ["command"]

_COLUMNS = ("id", "status", "priority", "type", "tasks", "title")


def _reqs() -> RequirementService:
    return get_context().hub.requirements


def _row(req: Requirement) -> dict[str, Any]:
    return {
        "id": req.id,
        "status": req.status.value,
        "priority": req.priority.value,
        "type": req.requirement_type.value,
        "tasks": req.linked_task_ids,
        "title": req.title,
    }


def _details(req: Requirement) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": req.id,
        "title": req.title,
        "status": req.status.value,
        "priority": req.priority.value,
        "type": req.requirement_type.value,
        "category": req.category or "",
        "tags": req.tags,
        "rework_rounds": req.rework_count,
        "tasks": req.linked_task_ids,
    }
    for n, text in enumerate(req.acceptance_criteria, start=1):
        out[f"criterion {n}"] = text
    for comment in req.comments:
        out[f"comment by {comment.author}"] = comment.content
    out["created"] = req.created_at
    out["updated"] = req.updated_at
    if req.description:
        out["description"] = req.description
    return out


def _show(req: Requirement, message: str) -> None:
    emit(req, human=line(message))


@click.group(name="requirement")
def command() -> None:
    """Requirements: create, review (refine, PO/EM passes) and materialize into tasks."""


@command.command(name="list")
@click.option("--status", multiple=True, help="Only these statuses (repeat or comma list).")
@click.option("--priority", multiple=True, help="must, should, could, wont.")
@click.option("--type", "requirement_type", multiple=True, help="product, functional, ...")
@click.option("--category", default=None, help="Only this category.")
@click.option("--tag", multiple=True, help="Only requirements carrying every tag given.")
@click.option("--search", default=None, help="Text in the id, title or description.")
@pagination_options()
def list_requirements(
    *,
    status: tuple[str, ...],
    priority: tuple[str, ...],
    requirement_type: tuple[str, ...],
    category: str | None,
    tag: tuple[str, ...],
    search: str | None,
    limit: int,
    offset: int,
    sort: str,
) -> None:
    """List requirements, must-haves first."""
    from animus_core.requirements import RequirementFilter

    page = _reqs().list(
        RequirementFilter(
            status=split_values(status),
            priority=split_values(priority),
            requirement_type=split_values(requirement_type),
            category=category,
            tags=split_values(tag),
            search=search,
            limit=limit,
            offset=offset,
            sort=sort.lower(),  # type: ignore[arg-type]  # click.Choice checked it
        )
    )
    emit_page(page, _COLUMNS, _row, "requirements")


@command.command(name="get")
@click.argument("requirement_id")
def get_requirement(requirement_id: str) -> None:
    """Show one requirement."""
    emit_record(_reqs().get(requirement_id), _details)


_FIELDS = [
    click.option("--description", default=None, help="Short description."),
    click.option("--body", default=None, help="Long-form body (markdown)."),
    click.option("--priority", default=None, help="must, should (default), could, wont."),
    click.option("--type", "requirement_type", default=None, help="functional (default), ..."),
    click.option("--category", default=None, help="Free-form category, e.g. security."),
    click.option("--source", default=None, help="Where it came from."),
    click.option("--tag", multiple=True, help="A tag (repeat or comma list)."),
    click.option("--criterion", multiple=True, help="An acceptance criterion (repeat)."),
]


def _with_fields(fn: Any) -> Any:
    for option in reversed(_FIELDS):
        fn = option(fn)
    return fn


def _changes(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "tag":
            if value:
                out["tags"] = split_values(value)
        elif key == "criterion":
            if value:
                out["acceptance_criteria"] = [v for v in value if v.strip()]
        elif value is not None:
            out[key] = value
    return out


@command.command(name="create")
@click.option("--title", required=True, help="What is needed.")
@click.option(
    "--status", default="draft", show_default=True, help="Initial status (draft, refined, ...)."
)
@_with_fields
def create_requirement(title: str, status: str, **fields: Any) -> None:
    """Create a requirement (REQ-NNN)."""
    req = _reqs().create(title=title, status=status, **_changes(fields))
    _show(req, f"created {req.id} [{req.status.value}] {req.title}")


@command.command(name="update")
@click.argument("requirement_id")
@click.option("--title", default=None, help="New title.")
@_with_fields
def update_requirement(requirement_id: str, title: str | None, **fields: Any) -> None:
    """Change a requirement's fields (--tag and --criterion replace the lists)."""
    from animus_protocol.envelope import InvalidInputError

    changes = _changes(fields)
    if title is not None:
        changes["title"] = title
    if not changes:
        raise InvalidInputError("nothing to update", hint="pass at least one field, e.g. --title")
    req = _reqs().update(requirement_id, **changes)
    _show(req, f"updated {req.id}")


@command.command(name="delete")
@click.argument("requirement_id")
@click.option("--yes", is_flag=True, help="Really delete (otherwise a dry run).")
def delete_requirement(requirement_id: str, yes: bool) -> None:
    """Delete a requirement (dry run unless --yes); its tasks are kept but unlinked."""
    reqs = _reqs()
    req = reqs.get(requirement_id)
    dry_run_or(
        yes,
        action="delete",
        target=req.id,
        describe=f"delete {req.id}: {req.title}",
        run=lambda: reqs.delete(req.id).id,
        extra={"linked_tasks": req.linked_task_ids},
    )


@command.command(name="transition")
@click.argument("requirement_id")
@click.argument("event")
def transition(requirement_id: str, event: str) -> None:
    """Apply a lifecycle EVENT: refine, submit-review, po-pass, po-fail, em-pass, em-fail."""
    reqs = _reqs()
    before = reqs.get(requirement_id).status.value
    req = reqs.transition(requirement_id, event)
    unstuck_note(req.id, before, req.status.value)
    _show(req, f"{req.id}: {before} -> {req.status.value} (rework rounds {req.rework_count})")


@command.command(name="refine")
@click.argument("requirement_id")
def refine(requirement_id: str) -> None:
    """Shorthand for 'transition ID refine'."""
    reqs = _reqs()
    before = reqs.get(requirement_id).status.value
    req = reqs.transition(requirement_id, "refine")
    _show(req, f"{req.id}: {before} -> {req.status.value}")


@command.command(name="status")
@click.argument("requirement_id")
@click.argument("status")
@click.option("--force", is_flag=True, help="Skip the transition check.")
def set_status(requirement_id: str, status: str, force: bool) -> None:
    """Move a requirement straight to STATUS (validated; --force overrides)."""
    reqs = _reqs()
    before = reqs.get(requirement_id).status.value
    req = reqs.set_status(requirement_id, status, force=force)
    unstuck_note(req.id, before, req.status.value)
    _show(req, f"{req.id}: {before} -> {req.status.value}")


@command.command(name="comment")
@click.argument("requirement_id")
@click.argument("text")
@click.option("--author", default="cli", show_default=True, help="Who wrote the comment.")
def comment(requirement_id: str, text: str, author: str) -> None:
    """Add a review comment."""
    req = _reqs().comment(requirement_id, text, author=author)
    _show(req, f"{req.id}: comment added ({len(req.comments)} in all)")


@command.command(name="materialize")
@click.argument("requirement_ids", nargs=-1)
@click.option("--include-wont", is_flag=True, help="Also materialize 'wont' requirements.")
def materialize(requirement_ids: tuple[str, ...], include_wont: bool) -> None:
    """One task per requirement (all requirements when no ids); re-runs reuse the tasks."""
    result = _reqs().materialize(requirement_ids, include_wont=include_wont)

    def human(_: Any) -> None:
        sys.stdout.write(f"requirements considered: {result.requirements_considered}\n")
        sys.stdout.write(f"tasks created: {', '.join(result.task_ids_created) or 'none'}\n")
        sys.stdout.write(f"tasks reused: {', '.join(result.task_ids_reused) or 'none'}\n")

    emit(result, human=human)
