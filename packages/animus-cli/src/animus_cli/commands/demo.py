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
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import click

from animus_cli.commands._demo_project import (
    DEMO_MARKER,
    DEMO_WORKFLOW,
    MAX_TASKS,
    PROJECT_FILES,
    TASKS,
    WORKFLOWS_YAML,
    write_mock_scripts,
)
from animus_cli.context import get_context
from animus_protocol.envelope import AnimusError, InvalidInputError, UnavailableError

__all__ = ["command"]

_DEFAULT_TIMEOUT = 120.0
_GIT_IDENTITY = ("-c", "user.name=Animus Demo", "-c", "user.email=demo@animus.invalid")
# The user's environment must not steer the demo: their ANIMUS_* settings (plugin dirs, a
# runner override, test hooks) and git's repository redirections are dropped.
_KEPT_ANIMUS_VARS = frozenset({"ANIMUS_DEBUG"})
_GIT_REDIRECTS = frozenset({"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"})


class DemoFailedError(AnimusError):
    """The demo ran but not every task ended done and merged."""

    default_code = "demo_failed"


# -- the throwaway project ---------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_REDIRECTS}
    argv = ["git", *_GIT_IDENTITY, "-c", "commit.gpgsign=false", *args]
    try:
        done = subprocess.run(
            argv, cwd=cwd, check=True, capture_output=True, text=True, timeout=30, env=env
        )
    except FileNotFoundError:
        raise UnavailableError(
            "the demo needs git, which is not on PATH", hint="install git and try again"
        ) from None
    except subprocess.CalledProcessError as exc:
        raise UnavailableError(
            f"git {' '.join(args)} failed in {cwd}: {exc.stderr.strip() or exc.returncode}",
            details={"argv": argv, "exit_code": exc.returncode},
        ) from None
    return done.stdout


def _mock_launcher() -> str:
    """A launcher for the scripted provider, put in the project's ``.animus/plugins/``.

    The provider ships as its own distribution (installed with the workspace); a source
    checkout without it installed still has its source next to this package.
    """
    import importlib.util

    import animus_cli

    source = Path(animus_cli.__file__).resolve().parents[4] / "plugins/animus-provider-mock/src"
    if importlib.util.find_spec("animus_provider_mock") is None and not source.is_dir():
        raise UnavailableError(
            "the demo needs the scripted provider animus-provider-mock, which is not installed",
            hint="install it next to animus-cli (pip install animus-provider-mock), or run "
            "the demo from the repository with 'uv run animus demo'",
        )
    return (
        f"#!{sys.executable}\n"
        "import sys\n"
        "try:\n"
        "    import animus_provider_mock\n"
        "except ImportError:\n"
        f"    sys.path.insert(0, {str(source)!r})\n"
        "from animus_provider_mock import main\n"
        "main()\n"
    )


def _check_target(target: Path) -> None:
    """``--dir`` must be new, empty, or an earlier demo's project (which is replaced)."""
    if target.exists() and not target.is_dir():
        raise InvalidInputError(f"--dir {target} is a file", hint="pass a directory path")
    if not target.exists() or not any(target.iterdir()):
        return
    if not (target / DEMO_MARKER).is_file():
        raise InvalidInputError(
            f"--dir {target} is not empty and holds no earlier demo "
            f"(no {DEMO_MARKER}); the demo only writes into a new or empty directory",
            details={"dir": str(target)},
            hint="pass a new path, or leave --dir out for a temporary directory",
        )
    shutil.rmtree(target)


def _demo_env(home: Path, scripts: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if (not k.startswith("ANIMUS_") or k in _KEPT_ANIMUS_VARS) and k not in _GIT_REDIRECTS
    }
    env["ANIMUS_HOME"] = str(home)
    env["ANIMUS_MOCK_SCRIPT_DIR"] = str(scripts)
    return env


def _make_project(project: Path, home: Path, n_tasks: int) -> tuple[dict[str, str], list[str]]:
    """The repository, ``.animus/`` (workflow, scripts, provider), the tasks; returns the
    environment every run gets and the task ids."""
    from animus_cli.commands.init import initialize
    from animus_core.hub import ServiceHub

    launcher_text = _mock_launcher()
    project.mkdir(parents=True, exist_ok=True)
    for name, text in PROJECT_FILES.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _git(project, "init", "-q")
    _git(project, "symbolic-ref", "HEAD", "refs/heads/main")  # git < 2.28 has no init -b
    _git(project, "add", *PROJECT_FILES)
    _git(project, "commit", "-q", "--no-verify", "-m", "calc: add() and its test")
    (project / DEMO_MARKER).write_text(
        json.dumps({"animus_demo": True, "tasks": n_tasks}) + "\n", encoding="utf-8"
    )

    animus = project / ".animus"
    (animus / "plugins").mkdir(parents=True, exist_ok=True)
    (animus / "workflows.yaml").write_text(WORKFLOWS_YAML, encoding="utf-8")
    launcher = animus / "plugins" / "animus-provider-mock"
    launcher.write_text(launcher_text, encoding="utf-8")
    launcher.chmod(0o755)
    scripts = animus / "demo-scripts"
    write_mock_scripts(scripts, n_tasks)

    env = _demo_env(home, scripts)
    initialize(project, env)
    ids: list[str] = []
    with ServiceHub(project, env=env) as hub:
        for spec in TASKS[:n_tasks]:
            task = hub.tasks.create(
                title=spec.title, description=spec.description, status="ready", priority="high"
            )
            ids.append(task.id)
            if spec.blocked_by is not None:
                hub.tasks.add_dependency(task.id, ids[spec.blocked_by], by="demo")
    return env, ids


# -- live progress ----------------------------------------------------------------------------


class _Live:
    """Turns workflow events (from the daemon's stream or the in-process runner) into one
    short line each, prefixed with the time since the demo started and the task."""

    def __init__(self, write: Callable[[str], None], started: float) -> None:
        self.write = write
        self.started = started
        self.tasks: dict[str, str] = {}  # workflow id -> task id

    def __call__(self, event: dict[str, Any]) -> None:
        payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
        assert isinstance(payload, dict)
        wf = str(event.get("workflow_id") or "")
        if event.get("kind") == "workflow_started" and payload.get("task_id"):
            self.tasks[wf] = str(payload["task_id"])
        phase = str(event.get("phase_id") or payload.get("phase_id") or "")
        text = _event_text(str(event.get("kind") or ""), phase, payload, wf)
        if text is None:
            return
        task = self.tasks.get(wf, wf[-8:])
        self.write(f"{time.monotonic() - self.started:6.1f}s  {task:<9} {text}")

    def say(self, text: str) -> None:
        self.write(f"{time.monotonic() - self.started:6.1f}s  {text}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _short(text: Any, width: int = 90) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _tool_text(phase: str, payload: dict[str, Any]) -> str | None:
    inner = payload.get("payload") if isinstance(payload.get("payload"), dict) else {}
    assert isinstance(inner, dict)
    name = inner.get("name") or inner.get("tool_name") or "tool"
    args = inner.get("arguments") if isinstance(inner.get("arguments"), dict) else {}
    assert isinstance(args, dict)
    target = args.get("path") or args.get("command") or ""
    return f"  {phase}: {name} {_short(target, 60)}".rstrip()


def _event_text(kind: str, phase: str, p: dict[str, Any], wf: str) -> str | None:
    if kind == "workflow_started":
        return f"run {wf} started: {' → '.join(p.get('phases') or [])}"
    if kind == "phase_started":
        return f"▶ {phase} (attempt {p.get('attempt')})"
    if kind == "phase_event":
        return _tool_text(phase, p) if p.get("type") == "tool_call" else None
    if kind == "phase_decision":
        return f"  {phase} verdict {p.get('verdict')}: {_short(p.get('reason'))}"
    if kind == "phase_completed":
        commit = f", commit {str(p['commit'])[:8]}" if p.get("commit") else ""
        return f"✔ {phase} done{commit}"
    if kind == "phase_failed":
        return f"✘ {phase} failed"
    if kind == "rework":
        return (
            f"↺ rework {p.get('count')}/{p.get('max_attempts')}: back to {p.get('target')}"
            f" — {_short(p.get('reason'), 70)}"
        )
    if kind == "merge_completed":
        return (
            f"⇢ merged {p.get('branch')} into {p.get('target_branch')} ({str(p.get('commit'))[:8]})"
        )
    if kind in ("merge_conflict", "merge_blocked"):
        return f"✘ {kind.replace('_', ' ')}: {_short(p.get('reason') or p.get('files'))}"
    if kind == "workflow_completed":
        return "■ run completed"
    if kind in ("workflow_failed", "workflow_paused", "workflow_cancelled"):
        return f"✘ run {kind.split('_')[1]}: {_short(p.get('reason'))}"
    return None


# -- the summary ------------------------------------------------------------------------------


def _seconds(start: Any, end: Any) -> float | None:
    from datetime import datetime

    if not start or not end:
        return None
    try:
        a = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
        b = end if isinstance(end, datetime) else datetime.fromisoformat(str(end))
    except ValueError:
        return None
    return round((b - a).total_seconds(), 2)


def _run_phases(run_dir: Path, task_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every phase attempt of a run with its verdict and time, and its merges, from the
    run's durable event file."""
    from animus_workflow_runner.events import read_events

    phases: list[dict[str, Any]] = []
    merges: list[dict[str, Any]] = []
    started: dict[str, Any] = {}
    for event in read_events(run_dir):
        kind, p = event.get("kind"), event.get("payload") or {}
        phase = event.get("phase_id")
        if kind == "phase_started":
            started[str(phase)] = event.get("ts")
        elif kind == "phase_decision":
            phases.append(
                {
                    "task": task_id,
                    "phase": phase,
                    "attempt": p.get("attempt"),
                    "verdict": p.get("verdict"),
                    "reason": p.get("reason"),
                    "seconds": _seconds(started.get(str(phase)), event.get("ts")),
                }
            )
        elif kind == "merge_completed":
            merges.append(
                {
                    "task": task_id,
                    "branch": p.get("branch"),
                    "into": p.get("target_branch"),
                    "status": p.get("status"),
                    "commit": p.get("commit"),
                }
            )
    return phases, merges


def _summary(project: Path, env: Mapping[str, str], task_ids: list[str]) -> dict[str, Any]:
    from animus_core.hub import ServiceHub

    tasks: list[dict[str, Any]] = []
    phases: list[dict[str, Any]] = []
    merges: list[dict[str, Any]] = []
    with ServiceHub(project, env=env) as hub:
        for task_id in task_ids:
            task = hub.tasks.get(task_id)
            runs = hub.runs.list(None, task_id, limit=10).runs  # newest first
            workflow_id = runs[0].id if runs else None
            row: dict[str, Any] = {
                "id": task_id,
                "title": task.title,
                "status": task.status.value,
                "depends_on": list(task.blocking_dependency_ids()),
                "workflow_id": workflow_id,
                "run_status": None,
                "reworks": 0,
                "seconds": None,
                "reason": task.blocked_reason,
            }
            if workflow_id is not None:
                run = hub.runs.get(workflow_id)
                row["run_status"] = run.status.value
                row["reworks"] = run.total_reworks
                row["seconds"] = _seconds(run.started_at, run.completed_at)
                row["reason"] = run.failure_reason or row["reason"]
                run_phases, run_merges = _run_phases(hub.paths.run_dir(workflow_id), task_id)
                phases += run_phases
                merges += run_merges
            tasks.append(row)
    log = _git(project, "log", "--oneline", "main").splitlines()
    merge_log = _git(project, "log", "--merges", "--oneline", "main").splitlines()
    return {
        "tasks": tasks,
        "phases": phases,
        "reworks": sum(1 for p in phases if p["verdict"] == "rework"),
        "merges": merges,
        "main_log": log,
        "merge_commits_on_main": len(merge_log),
    }


def _failure(summary: dict[str, Any]) -> str | None:
    """Why the demo did not succeed (None when every task is done and merged)."""
    problems = []
    merged = {
        m["task"] for m in summary["merges"] if m.get("status") in ("merged", "already_merged")
    }
    for task in summary["tasks"]:
        if task["status"] != "done" and task["workflow_id"] is None and task["depends_on"]:
            waits = ", ".join(task["depends_on"])
            problems.append(f"{task['id']} never ran: it waits for {waits}")
        elif task["status"] != "done":
            why = f": {task['reason']}" if task.get("reason") else ""
            problems.append(f"{task['id']} ended {task['status']}{why}")
        elif task["id"] not in merged:
            problems.append(f"{task['id']} is done but its branch was not merged into main")
    return "; ".join(problems) or None


def _print_summary(data: dict[str, Any], say: Callable[[str], None]) -> None:
    from animus_cli.output import print_table

    say("")
    mode = "through the daemon" if data["mode"] == "daemon" else "in this process"
    say(f"summary: {_count(len(data['tasks']), 'task')} {mode} in {data['seconds']:.1f} s")
    print_table(
        [
            {
                **t,
                "depends_on": ", ".join(t["depends_on"]) or "-",
                "run": t["workflow_id"] or "-",
                "time": f"{t['seconds']:.1f} s" if t["seconds"] is not None else "-",
            }
            for t in data["tasks"]
        ],
        ["id", "title", "status", "depends_on", "run", "reworks", "time"],
        title="tasks",
    )
    say("")
    print_table(
        [
            {
                **p,
                "phase": f"{p['phase']} #{p['attempt']}",
                "time": f"{p['seconds']:.2f} s" if p["seconds"] is not None else "-",
                "reason": _short(p["reason"], 70),
            }
            for p in data["phases"]
        ],
        ["task", "phase", "verdict", "time", "reason"],
        title="phases and verdicts",
    )
    say("")
    say("main (git log --oneline main):")
    for line in data["main_log"]:
        say(f"  {line}")


# -- the command --------------------------------------------------------------------------------


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
        _check_target(target)
    scratch = Path(tempfile.mkdtemp(prefix="animus-demo-"))
    project = (target or scratch / "calc").absolute()
    home = (animus_home or scratch / "home").absolute()
    started = time.monotonic()
    live = _Live(say, started)
    markers = {"ANIMUS_HOME": str(home)}
    env: dict[str, str] = {}
    data: dict[str, Any] = {}
    try:
        with _stoppable():
            env, task_ids = _make_project(project, home, n_tasks)
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

            daemon = DaemonReport()
            if no_daemon:
                run_in_process(project, env, task_ids, live)
            else:
                run_with_daemon(
                    project, env, task_ids, live, timeout=timeout, report=daemon, say=live.say
                )
            data = {
                "mode": "in-process" if no_daemon else "daemon",
                "project_root": str(project),
                "animus_home": str(home),
                "kept": keep,
                "workflow": DEMO_WORKFLOW,
                **_summary(project, env, task_ids),
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
    from animus_cli.output import emit

    reason = _failure(data)
    if reason is None and data.get("daemon") and not data["daemon"]["stopped"]:
        reason = f"the daemon (pid {data['daemon']['pid']}) did not stop"
    if reason is None and data["leftover_processes"]:
        reason = f"{len(data['leftover_processes'])} process(es) of the demo were left behind"
    data["ok"] = reason is None
    if not json_output:
        _print_summary(data, say)
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
            hint="rerun with --keep to inspect the project and its runs",
        )
    merges = data["merge_commits_on_main"]
    if json_output:
        emit(data)
    else:
        say(
            f"ok: {_count(len(data['tasks']), 'task')} done, "
            f"{_count(data['reworks'], 'rework round')}, "
            f"{_count(merges, 'merge')} into main, {data['seconds']:.1f} s"
        )
    return 0
