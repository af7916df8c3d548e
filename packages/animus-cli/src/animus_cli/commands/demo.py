"""``animus demo``: Animus's main job, end to end, in a throwaway repository.

It creates a new git repository holding a tiny Python package (``calc``), a workflow
(implement → test → review → merge) whose agents are the scripted ``mock`` provider, and
N tasks (the second depends on the first). By default it starts the project's daemon,
enqueues the tasks over the control socket, prints the runner processes' phase events as
they arrive, waits for the runs, and stops the daemon; ``--no-daemon`` runs the same tasks
one by one in this process. It ends with a summary built from the durable state: task
statuses, every phase's verdict (the first review asks for one rework round), the commits
on ``main``, and the time spent.

It never touches the current repository or the real ``ANIMUS_HOME``: the project lives in a
temporary directory (or ``--dir``) and the runtime state in a temporary ``ANIMUS_HOME``
(or ``--animus-home``); both are removed afterwards unless ``--keep``. The daemon is
stopped however the demo ends (Ctrl-C and SIGTERM included).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from animus_cli.commands._demo_live import Live, count
from animus_cli.commands._demo_project import DEMO_WORKFLOW, MAX_TASKS, TASKS
from animus_cli.commands._demo_setup import check_target, make_project
from animus_cli.context import get_context
from animus_protocol.envelope import AnimusError

__all__ = ["command"]

_DEFAULT_TIMEOUT = 120.0


class DemoFailedError(AnimusError):
    """The demo ran but not every task ended done and merged."""

    default_code = "demo_failed"


# -- the command --------------------------------------------------------------------------------


def _dependencies(task_ids: list[str]) -> dict[str, list[str]]:
    """Task id -> the task ids it waits for (as the demo's tasks declare them)."""
    return {
        task_id: [task_ids[spec.blocked_by]] if spec.blocked_by is not None else []
        for task_id, spec in zip(task_ids, TASKS, strict=False)
    }


@contextlib.contextmanager
def _stoppable() -> Iterator[None]:
    """SIGTERM and SIGHUP end the demo like Ctrl-C does, so its cleanup always runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def _uninterruptible() -> Iterator[None]:
    """A second Ctrl-C must not cut the cleanup (stopping the daemon) short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@click.command("demo")
@click.option(
    "--dir",
    "target",
    type=click.Path(path_type=Path),
    default=None,
    help="Create the demo project here (new, empty, or an earlier demo's).",
)
@click.option(
    "--animus-home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Runtime state directory (default: a temporary one).",
)
@click.option("--keep", is_flag=True, help="Keep the project and runtime state; print where.")
@click.option(
    "--tasks",
    "n_tasks",
    type=click.IntRange(1, MAX_TASKS),
    default=3,
    show_default=True,
    help=f"How many tasks (1-{MAX_TASKS}); the second depends on the first.",
)
@click.option("--no-daemon", is_flag=True, help="Run the tasks in this process, one by one.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=_DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the runs through the daemon.",
)
@click.option("--json", "json_flag", is_flag=True, help="Same as animus --json demo.")
def command(
    *,
    target: Path | None,
    animus_home: Path | None,
    keep: bool,
    n_tasks: int,
    no_daemon: bool,
    timeout: float,
    json_flag: bool,
) -> int:
    """Run Animus's main job on a throwaway repository (see docs/demo.md)."""
    ctx = get_context()
    json_output = ctx.json_output or json_flag
    ctx.json_output = json_output
    out = sys.stderr if json_output else sys.stdout

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    if target is not None:
        check_target(target)
    scratch = Path(tempfile.mkdtemp(prefix="animus-demo-"))
    project = (target or scratch / "calc").absolute()
    home = (animus_home or scratch / "home").absolute()
    started = time.monotonic()
    live = Live(say, started)
    markers = {"ANIMUS_HOME": str(home)}
    env: dict[str, str] = {}
    data: dict[str, Any] = {}
    try:
        with _stoppable():
            env, task_ids = make_project(project, home, n_tasks)
            markers["ANIMUS_MOCK_SCRIPT_DIR"] = env["ANIMUS_MOCK_SCRIPT_DIR"]
            chain = " ← ".join(task_ids[:2]) if n_tasks > 1 else ""
            say(f"demo project  {project} (new git repository, package calc/, tests/)")
            say(f"ANIMUS_HOME   {home} (temporary{', kept' if keep else ''})")
            say(
                f"tasks         {', '.join(task_ids)}"
                + (f" ({task_ids[1]} waits for {task_ids[0]})" if chain else "")
            )
            say(f"workflow      {DEMO_WORKFLOW}: implement → test → review → merge into main")
            say("")
            from animus_cli.commands._demo_runs import (
                DaemonReport,
                run_in_process,
                run_with_daemon,
            )
            from animus_cli.commands._demo_summary import build_summary

            daemon = DaemonReport()
            if no_daemon:
                run_in_process(project, env, task_ids, live, say=live.say)
            else:
                run_with_daemon(
                    project,
                    env,
                    task_ids,
                    live,
                    depends_on=_dependencies(task_ids),
                    timeout=timeout,
                    report=daemon,
                    say=live.say,
                )
            data = {
                "mode": "in-process" if no_daemon else "daemon",
                "project_root": str(project),
                "animus_home": str(home),
                "kept": keep,
                "workflow": DEMO_WORKFLOW,
                **build_summary(project, env, task_ids),
                "seconds": round(time.monotonic() - started, 2),
            }
            if not no_daemon:
                data["daemon"] = {
                    "pid": daemon.pid,
                    "stopped": daemon.stopped,
                    "stop_seconds": daemon.stop_seconds,
                    "log": daemon.log,
                }
    finally:
        with _uninterruptible():
            from animus_cli.commands._demo_runs import reap_leftovers

            leftovers = reap_leftovers(markers)
            if data:
                data["leftover_processes"] = leftovers
            elif leftovers:
                say(f"stopped {len(leftovers)} leftover process(es) of the demo")
            if not keep:
                shutil.rmtree(scratch, ignore_errors=True)
                if target is not None:
                    shutil.rmtree(project, ignore_errors=True)
                if animus_home is not None:
                    shutil.rmtree(home, ignore_errors=True)
    return _finish(data, say, json_output)


def _finish(data: dict[str, Any], say: Callable[[str], None], json_output: bool) -> int:
    from animus_cli.commands._demo_summary import failure, print_summary
    from animus_cli.output import emit

    reason = failure(data)
    if reason is None and data.get("daemon") and not data["daemon"]["stopped"]:
        reason = f"the daemon (pid {data['daemon']['pid']}) did not stop"
    if reason is None and data["leftover_processes"]:
        reason = f"{len(data['leftover_processes'])} process(es) of the demo were left behind"
    data["ok"] = reason is None
    if not json_output:
        print_summary(data, say)
        say("")
        if data["kept"]:
            say(f"kept: project {data['project_root']}")
            say(f"      ANIMUS_HOME {data['animus_home']}")
            say(
                f"look around: ANIMUS_HOME={data['animus_home']} "
                f"animus --project-root {data['project_root']} workflow list"
            )
    if reason is not None:
        raise DemoFailedError(
            f"the demo did not finish: {reason}",
            details={"summary": data},
            hint=f"inspect the project and its runs in {data['project_root']}"
            if data["kept"]
            else "rerun with --keep to inspect the project and its runs",
        )
    merges = data["merge_commits_on_main"]
    if json_output:
        emit(data)
    else:
        say(
            f"ok: {count(len(data['tasks']), 'task')} done, "
            f"{count(data['reworks'], 'rework round')}, "
            f"{count(merges, 'merge')} into main, {data['seconds']:.1f} s"
        )
    return 0
