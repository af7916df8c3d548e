"""``animus task``: the built-in task backend, with the task-only verbs.

Status values accept aliases in any case (``todo``, ``in_progress``, ``InProgress``);
``delete`` is a dry run unless ``--yes``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from animus_cli.commands._subject_support import (
    dry_run_or,
    emit_page,
    emit_record,
    line,
    note,
    pagination_options,
    split_values,
    unstuck_note,
)
from animus_cli.context import get_context
from animus_cli.output import emit, print_kv

if TYPE_CHECKING:
    from animus_core.tasks import TaskService
    from animus_protocol.task import Task

__all__ = ["command"]

_LIST_COLUMNS = ("id", "status", "priority", "type", "assignee", "title")


def _tasks() -> TaskService:
    return get_context().hub.tasks


def _row(task: Task) -> dict[str, Any]:
    from animus_core._task_rows import assignee_label

    return {
        "id": task.id,
        "status": task.status.value + (" (paused)" if task.paused else ""),
        "priority": task.priority.value,
        "type": task.task_type.value,
        "assignee": assignee_label(task) or "",
        "title": task.title,
    }


def _details(task: Task) -> dict[str, Any]:
    from animus_core._task_rows import assignee_label

    out: dict[str, Any] = {
        "id": task.id,
        "title": task.title,
        "status": task.status.value,
        "priority": task.priority.value,
        "type": task.task_type.value,
        "assignee": assignee_label(task) or "unassigned",
        "tags": task.tags,
    }
    if task.blocked_reason:
        out["blocked_reason"] = task.blocked_reason
    if task.deadline:
        out["deadline"] = task.deadline
    if task.dependencies:
        out["dependencies"] = [f"{d.dependency_type.value} {d.task_id}" for d in task.dependencies]
    for item in task.checklist:
        out[f"[{'x' if item.completed else ' '}] {item.id}"] = item.description
    if task.linked_requirements:
        out["requirements"] = task.linked_requirements
    out["created"] = task.metadata.created_at
    out["updated"] = task.metadata.updated_at
    out["version"] = task.metadata.version
    if task.description:
        out["description"] = task.description
    return out


def _show(task: Task, message: str | None = None) -> None:
    """A changed task: its wire form under --json, else one summary line."""
    text = message or f"{task.id} [{task.status.value}] {task.title}"
    emit(task, human=line(text))


@click.group(name="task")
def command() -> None:
    """Tasks: create, shape, move and inspect work (the built-in task backend)."""


@command.command(name="list")
@click.option("--status", multiple=True, help="Only these statuses (repeat or comma list).")
@click.option("--priority", multiple=True, help="Only these priorities: critical, high, ...")
@click.option("--type", "task_type", multiple=True, help="Only these types: feature, bugfix, ...")
@click.option("--tag", multiple=True, help="Only tasks carrying every tag given.")
@click.option("--search", default=None, help="Text in the id, title or description.")
@click.option("--assignee", default=None, help="User id, agent:<role>, or 'unassigned'.")
@pagination_options()
def list_tasks(
    *,
    status: tuple[str, ...],
    priority: tuple[str, ...],
    task_type: tuple[str, ...],
    tag: tuple[str, ...],
    search: str | None,
    assignee: str | None,
    limit: int,
    offset: int,
    sort: str,
) -> None:
    """List tasks, most urgent first."""
    from animus_core.tasks import TaskFilter

    page = _tasks().list(
        TaskFilter(
            status=split_values(status),
            priority=split_values(priority),
            task_type=split_values(task_type),
            tags=split_values(tag),
            search=search,
            assignee=assignee,
            limit=limit,
            offset=offset,
            sort=sort.lower(),  # type: ignore[arg-type]  # click.Choice checked it
        )
    )
    emit_page(page, _LIST_COLUMNS, _row, "tasks")


@command.command(name="get")
@click.argument("task_id")
def get_task(task_id: str) -> None:
    """Show one task."""
    emit_record(_tasks().get(task_id), _details)


@command.command(name="stats")
def task_stats() -> None:
    """Task counts by status."""
    counts = _tasks().count_by_status()
    emit(
        {"by_status": counts, "total": sum(counts.values())},
        human=lambda d: print_kv({**d["by_status"], "total": d["total"]}),
    )


@command.command(name="create")
@click.option("--title", required=True, help="What to do.")
@click.option("--description", default="", help="Longer explanation.")
@click.option("--type", "task_type", default="feature", show_default=True, help="Task type.")
@click.option("--priority", default="medium", show_default=True, help="critical|high|medium|low.")
@click.option("--tag", multiple=True, help="A tag (repeat or comma list).")
@click.option("--status", default="backlog", show_default=True, help="Initial status.")
@click.option("--deadline", default=None, help="RFC 3339 time or YYYY-MM-DD.")
@click.option("--assignee", default=None, help="User id or agent:<role>.")
@click.option("--risk", default=None, help="high|medium|low.")
@click.option("--scope", default=None, help="large|medium|small.")
@click.option("--complexity", default=None, help="high|medium|low.")
@click.option("--linked-requirement", multiple=True, help="A requirement id this implements.")
def create_task(
    *,
    title: str,
    description: str,
    task_type: str,
    priority: str,
    tag: tuple[str, ...],
    status: str,
    deadline: str | None,
    assignee: str | None,
    risk: str | None,
    scope: str | None,
    complexity: str | None,
    linked_requirement: tuple[str, ...],
) -> None:
    """Create a task (TASK-NNN)."""
    task = _tasks().create(
        title=title,
        description=description,
        task_type=task_type,
        priority=priority,
        tags=split_values(tag),
        status=status,
        deadline=deadline,
        assignee=assignee,
        risk=risk,
        scope=scope,
        complexity=complexity,
        linked_requirements=split_values(linked_requirement),
    )
    _show(task, f"created {task.id} [{task.status.value}] {task.title}")


@command.command(name="update")
@click.argument("task_id")
@click.option("--title", default=None, help="New title.")
@click.option("--description", default=None, help="New description.")
@click.option(
    "--type",
    "task_type",
    default=None,
    help="feature, bugfix, hotfix, refactor, docs, test, chore, experiment.",
)
@click.option("--priority", default=None, help="critical, high, medium, low.")
@click.option("--tag", multiple=True, help="Replace the tags (repeat or comma list).")
@click.option("--add-tag", multiple=True, help="Add a tag.")
@click.option("--remove-tag", multiple=True, help="Remove a tag.")
@click.option("--deadline", default=None, help="RFC 3339 time, YYYY-MM-DD, or 'none'.")
@click.option("--assignee", default=None, help="User id, agent:<role>, or 'unassigned'.")
@click.option("--risk", default=None, help="high, medium, low.")
@click.option("--scope", default=None, help="large, medium, small.")
@click.option("--complexity", default=None, help="high, medium, low.")
def update_task(
    task_id: str,
    tag: tuple[str, ...],
    add_tag: tuple[str, ...],
    remove_tag: tuple[str, ...],
    **fields: str | None,
) -> None:
    """Change a task's fields (status has its own verbs)."""
    from animus_protocol.envelope import InvalidInputError

    changes: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    tasks = _tasks()
    if tag or add_tag or remove_tag:
        current = list(split_values(tag)) if tag else tasks.get(task_id).tags
        removed = set(split_values(remove_tag))
        tags = [t for t in dict.fromkeys([*current, *split_values(add_tag)]) if t not in removed]
        changes["tags"] = tags
    if not changes:
        raise InvalidInputError(
            "nothing to update", hint="pass at least one field, e.g. --title or --priority"
        )
    task = tasks.update(task_id, **changes)
    _show(task, f"updated {task.id} (version {task.metadata.version})")


@command.command(name="status")
@click.argument("task_id")
@click.argument("status")
@click.option("--force", is_flag=True, help="Skip the transition check.")
@click.option("--reason", default=None, help="Why (kept as blocked reason or resolution).")
def set_status(task_id: str, status: str, force: bool, reason: str | None) -> None:
    """Move a task to STATUS (validated; --force overrides)."""
    tasks = _tasks()
    before = tasks.get(task_id).status.value
    task = tasks.set_status(task_id, status, force=force, reason=reason)
    unstuck_note(task.id, before, task.status.value)
    _show(task, f"{task.id}: {before} -> {task.status.value}")


@command.command(name="next")
def next_task() -> None:
    """The most urgent ready task whose dependencies are done."""
    task = _tasks().next()
    if task is None:
        emit(None, human=line("no ready task"))
        return
    emit_record(task, _details)


@command.command(name="delete")
@click.argument("task_id")
@click.option("--yes", is_flag=True, help="Really delete (otherwise a dry run).")
def delete_task(task_id: str, yes: bool) -> None:
    """Delete a task (dry run unless --yes); edges from other tasks are removed."""
    tasks = _tasks()
    task = tasks.get(task_id)
    dependents = tasks.dependents(task.id)
    dry_run_or(
        yes,
        action="delete",
        target=task.id,
        describe=f"delete {task.id}: {task.title}",
        run=lambda: tasks.delete(task.id).id,
        extra={"dependents": dependents},
    )


@command.command(name="reopen", help="Move a done or cancelled task back to backlog.")
@click.argument("task_id")
@click.option("--reason", default=None, help="Why (kept in the task history).")
def reopen_task(task_id: str, reason: str | None) -> None:
    task = _tasks().reopen(task_id, reason=reason)
    _show(task, f"{task.id} reopened [{task.status.value}]")


@command.command(name="pause", help="Put a backlog, ready or blocked task on hold.")
@click.argument("task_id")
@click.option("--reason", default=None, help="Why (kept as the blocked reason).")
def pause_task(task_id: str, reason: str | None) -> None:
    task = _tasks().pause(task_id, reason=reason)
    _show(task, f"{task.id} paused [{task.status.value}]")


@command.command(name="resume", help="Move a paused (on-hold) task back to ready.")
@click.argument("task_id")
def resume_task(task_id: str) -> None:
    task = _tasks().resume(task_id)
    unstuck_note(task.id, "on-hold", task.status.value)
    _show(task, f"{task.id} resumed [{task.status.value}]")


@command.command(name="block", help="Block a task with a reason.")
@click.argument("task_id")
@click.option("--reason", required=True, help="What it waits for.")
def block_task(task_id: str, reason: str) -> None:
    task = _tasks().block(task_id, reason)
    _show(task, f"{task.id} blocked: {task.blocked_reason}")


@command.command(name="assign", help="Assign a task to a human or an agent ('unassigned' clears).")
@click.argument("task_id")
@click.argument("assignee")
@click.option(
    "--type",
    "assignee_type",
    type=click.Choice(["human", "agent"]),
    default="human",
    show_default=True,
)
@click.option("--model", default=None, help="Agent model (with --type agent).")
def assign_task(task_id: str, assignee: str, assignee_type: str, model: str | None) -> None:
    task = _tasks().assign(task_id, assignee, assignee_type=assignee_type, model=model)
    _show(task, f"{task.id} assigned to {_row(task)['assignee'] or 'nobody'}")


@command.command(name="set-priority", help="Set a task's priority (critical, high, medium, low).")
@click.argument("task_id")
@click.argument("priority")
def set_priority(task_id: str, priority: str) -> None:
    task = _tasks().set_priority(task_id, priority)
    _show(task, f"{task.id} priority {task.priority.value}")


@command.command(
    name="set-deadline", help="Set a task's deadline (RFC 3339 or YYYY-MM-DD; 'none' clears)."
)
@click.argument("task_id")
@click.argument("deadline")
def set_deadline(task_id: str, deadline: str) -> None:
    task = _tasks().set_deadline(task_id, deadline)
    _show(task, f"{task.id} deadline {task.deadline or 'none'}")


@command.group(name="dependency")
def dependency() -> None:
    """Dependencies between tasks (blocked-by edges gate dispatch)."""


_DEP_TYPE = click.option(
    "--type",
    "dependency_type",
    default="blocked-by",
    show_default=True,
    help="blocked-by, blocks-by or related-to.",
)


@dependency.command(name="add")
@click.argument("task_id")
@click.argument("depends_on")
@_DEP_TYPE
def dependency_add(task_id: str, depends_on: str, dependency_type: str) -> None:
    """TASK_ID waits for DEPENDS_ON (cycles are refused)."""
    tasks = _tasks()
    task = tasks.add_dependency(task_id, depends_on, dependency_type)
    unmet = tasks.unmet_dependencies(task.id)
    if unmet:
        note(f"{task.id} waits for {', '.join(unmet)}")
    edge = task.dependencies[-1] if task.dependencies else None
    target = edge.task_id if edge else depends_on
    _show(task, f"{task.id} {dependency_type} {target}")


@dependency.command(name="remove")
@click.argument("task_id")
@click.argument("depends_on")
@click.option("--type", "dependency_type", default=None, help="Only this edge type.")
def dependency_remove(task_id: str, depends_on: str, dependency_type: str | None) -> None:
    """Remove TASK_ID's dependency on DEPENDS_ON."""
    task = _tasks().remove_dependency(task_id, depends_on, dependency_type)
    _show(task, f"{task.id} no longer depends on {depends_on}")


@command.group(name="checklist")
def checklist() -> None:
    """A task's checklist items."""


@checklist.command(name="add")
@click.argument("task_id")
@click.argument("description")
def checklist_add(task_id: str, description: str) -> None:
    """Add an item."""
    task = _tasks().checklist_add(task_id, description)
    _show(task, f"{task.id} checklist: added {task.checklist[-1].id}")


@checklist.command(name="update")
@click.argument("task_id")
@click.argument("item_id")
@click.option("--completed/--not-completed", default=None, help="Tick or untick the item.")
@click.option("--description", default=None, help="New text.")
def checklist_update(
    task_id: str, item_id: str, completed: bool | None, description: str | None
) -> None:
    """Tick, untick or reword an item."""
    from animus_protocol.envelope import InvalidInputError

    if completed is None and description is None:
        raise InvalidInputError(
            "nothing to change", hint="pass --completed, --not-completed or --description"
        )
    task = _tasks().checklist_update(task_id, item_id, completed=completed, description=description)
    _show(task, f"{task.id} checklist: updated {item_id}")
