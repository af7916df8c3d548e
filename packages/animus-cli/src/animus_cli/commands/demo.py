"""``animus demo``: Animus end to end in a throwaway repository (version 1: tasks and queue).

It never touches the current repository or the real ``ANIMUS_HOME``: the project is a new
git repository in a temporary directory (or ``--dir``) and the runtime state goes to a
temporary ``ANIMUS_HOME`` (or ``--animus-home``). Both are removed afterwards unless
``--keep`` is given.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from animus_cli.commands._runs_common import say
from animus_cli.context import get_context
from animus_cli.output import print_table

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = ["command"]

STAND_IN = (
    "Stand-in: the workflow runner arrives in a later issue, so this demo marks each leased "
    "task done itself instead of running agents on it."
)
_MAX_ROUNDS = 10


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Animus Demo", "-c", "user.email=demo@animus.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=30,
    )


def _make_project(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "README.md").write_text("# demo\n\nA throwaway project for `animus demo`.\n")
    (root / "app.py").write_text('def greet(name: str) -> str:\n    return f"hello {name}"\n')
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "README.md", "app.py")
    _git(root, "commit", "-q", "-m", "initial commit")


def _run_queue(hub: ServiceHub, verbose: bool) -> list[dict[str, Any]]:
    rounds: list[dict[str, Any]] = []
    for number in range(1, _MAX_ROUNDS + 1):
        leased = hub.queue.lease(3)
        if not leased:
            break
        waiting = [e.subject_key for e in hub.queue.list("pending").entries]
        rounds.append(
            {"round": number, "leased": [e.subject_key for e in leased], "still_pending": waiting}
        )
        if verbose:
            say(
                f"round {number}: leased {', '.join(e.subject_key for e in leased)}"
                + (
                    f"; still pending (dependencies not done): {', '.join(waiting)}"
                    if waiting
                    else ""
                )
            )
        for entry in leased:
            task_id = entry.subject_id
            hub.tasks.set_status(task_id, "in-progress", by="demo")
            hub.tasks.set_status(task_id, "done", by="demo")
            hub.queue.complete(entry.entry_id, "completed")
            hub.history.record(
                "demo.dispatch-completed",
                task_id=task_id,
                status="completed",
                message="marked done by the demo (stand-in for a workflow run)",
                data={"entry_id": entry.entry_id, "round": number},
            )
            if verbose:
                say(f"  {task_id} done (stand-in for a workflow run)")
    return rounds


@click.command("demo")
@click.option(
    "--dir",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Create the demo project here (must be new or empty).",
)
@click.option(
    "--animus-home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Runtime state directory (default: a temporary one).",
)
@click.option("--keep", is_flag=True, help="Keep the project and runtime state; print where.")
def command(target: Path | None, animus_home: Path | None, keep: bool) -> None:
    """Run Animus end to end in a throwaway repository: init, tasks, the queue, status."""
    from animus_cli.commands.init import initialize
    from animus_core.hub import ServiceHub
    from animus_protocol.envelope import InvalidInputError, dumps_envelope, success_envelope

    json_output = get_context().json_output
    if target is not None and target.exists() and any(target.iterdir()):
        raise InvalidInputError(
            f"--dir {target} is not empty; the demo only writes into a new or empty directory",
            hint="pass a new path, or leave --dir out for a temporary directory",
        )
    scratch = Path(tempfile.mkdtemp(prefix="animus-demo-"))
    project = (target or scratch / "project").absolute()
    home = (animus_home or scratch / "animus-home").absolute()
    verbose = not json_output
    try:
        _make_project(project)
        env = {**os.environ, "ANIMUS_HOME": str(home)}
        init = initialize(project, env)
        if verbose:
            say(f"demo project  {project} (a new git repository)")
            say(f"runtime       {init['scope_root']}")
            say(f"init created  {len(init['created'])} paths (.animus/, runtime dir, workflow.db)")
        with ServiceHub(project, env=env) as hub:
            a = hub.tasks.create(title="Add a greeting function", status="ready", priority="high")
            b = hub.tasks.create(title="Test the greeting", status="ready", priority="high")
            c = hub.tasks.create(title="Document the greeting", status="ready", priority="high")
            hub.tasks.add_dependency(b.id, a.id, by="demo")
            hub.tasks.add_dependency(c.id, b.id, by="demo")
            entries = {}
            for task in (c, b, a):  # queued in reverse: order comes from the dependencies
                entries[task.id] = hub.queue.enqueue_subject("task", task.id, trigger_source="demo")
            if verbose:
                say(f"tasks         {a.id} <- {b.id} <- {c.id} (each blocked by the previous)")
                say(f"queued        {', '.join(entries)} (in that order)")
                say(STAND_IN)
            rounds = _run_queue(hub, verbose)
            rows = []
            for task in (a, b, c):
                current = hub.tasks.get(task.id)
                leased_in = next((r["round"] for r in rounds if task.id in r["leased"]), None)
                rows.append(
                    {
                        "task": task.id,
                        "title": task.title,
                        "blocked_by": ", ".join(current.blocking_dependency_ids()),
                        "entry": entries[task.id].entry_id,
                        "leased_in_round": leased_in,
                        "status": current.status.value,
                    }
                )
            report = hub.status.report(failures=0)
        summary = {
            "project_root": str(project),
            "animus_home": str(home),
            "kept": keep,
            "stand_in": STAND_IN,
            "rounds": rounds,
            "tasks": rows,
            "queue": report.queue.model_dump(),
            "task_counts": report.tasks,
            "ok": [r["leased"] for r in rounds] == [[a.id], [b.id], [c.id]],
        }
        if json_output:
            sys.stdout.write(dumps_envelope(success_envelope(summary)) + "\n")
        else:
            say("")
            print_table(
                rows,
                ["task", "title", "blocked_by", "entry", "leased_in_round", "status"],
                title="summary",
            )
            q = report.queue
            say(f"queue now: {q.total} queued, {q.completed} completed")
            if keep:
                say(f"kept: project {project}, runtime {home}")
                say(f"look around: ANIMUS_HOME={home} animus --project-root {project} status")
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
            if target is not None:
                shutil.rmtree(project, ignore_errors=True)
            if animus_home is not None:
                shutil.rmtree(home, ignore_errors=True)
