"""The demo's summary, built from the durable state after the runs (never from the live
stream): tasks and their runs, every phase attempt with its verdict, merges, ``main``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from animus_cli.commands._demo_live import count, short
from animus_cli.commands._demo_setup import git

__all__ = ["build_summary", "failure", "print_summary"]


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


def build_summary(project: Path, env: Mapping[str, str], task_ids: list[str]) -> dict[str, Any]:
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
    log = git(project, "log", "--oneline", "main").splitlines()
    merge_log = git(project, "log", "--merges", "--oneline", "main").splitlines()
    return {
        "tasks": tasks,
        "phases": phases,
        "reworks": sum(1 for p in phases if p["verdict"] == "rework"),
        "merges": merges,
        "main_log": log,
        "merge_commits_on_main": len(merge_log),
    }


def failure(summary: dict[str, Any]) -> str | None:
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


def print_summary(data: dict[str, Any], say: Callable[[str], None]) -> None:
    from animus_cli.output import print_table

    say("")
    mode = "through the daemon" if data["mode"] == "daemon" else "in this process"
    say(f"summary: {count(len(data['tasks']), 'task')} {mode} in {data['seconds']:.1f} s")
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
                "reason": short(p["reason"], 70),
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
