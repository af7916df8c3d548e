"""The ``animus-workflow-runner`` executable: exit codes, bad input, live events over a Unix
socket, pause and cancel through the database and SIGTERM, the recorded pid and start time."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from animus_workflow_runner.control import (
    process_start_time,
    request_action,
    runner_alive,
    runner_state,
)
from animus_workflow_runner.events import read_events
from animus_workflow_runner.testing import QUICK_WORKFLOW, WorkflowProject, make_workflow_project

pytestmark = pytest.mark.timeout(120)

YAML = QUICK_WORKFLOW


def runner(
    p: WorkflowProject, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "animus_workflow_runner.cli", *args],
        env=env or p.env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def start(p: WorkflowProject, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "animus_workflow_runner.cli",
            "execute",
            "--project-root",
            str(p.root),
            *args,
        ],
        env=p.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def error_of(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    env = json.loads(proc.stderr.strip().splitlines()[-1])
    assert env["ok"] is False
    return env["error"]  # type: ignore[no-any-return]


@pytest.fixture
def project(tmp_path: Path) -> WorkflowProject:
    return make_workflow_project(tmp_path, YAML)


def test_version_and_bad_input_exit_2_with_a_clear_message(project: WorkflowProject) -> None:
    assert runner(project, "--version").stdout.startswith("animus-workflow-runner ")
    root = str(project.root)
    cases = [
        ((), "required"),
        (("execute", "--project-root", root), "--task-id"),
        (
            ("execute", "--project-root", root, "--task-id", "TASK-001", "--var", "novalue"),
            "KEY=VALUE",
        ),
        (
            ("execute", "--project-root", root, "--task-id", "T", "--input-json", "{"),
            "not valid JSON",
        ),
        (("execute", "--project-root", root + "/nope", "--task-id", "T"), "not a directory"),
        (("execute", "--project-root", root, "--task-id", "TASK-404"), "TASK-404"),
        (("execute", "--project-root", root, "--workflow-id", "wf-missing"), "wf-missing"),
    ]
    for args, needle in cases:
        proc = runner(project, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert needle in error_of(proc)["message"], (args, proc.stderr)


def test_unknown_workflow_ref_fails_before_anything_starts(project: WorkflowProject) -> None:
    task = project.create_task()
    proc = runner(
        project,
        "execute",
        "--project-root",
        str(project.root),
        "--task-id",
        task,
        "--workflow-ref",
        "nope",
    )
    assert proc.returncode == 2
    assert "unknown workflow 'nope'" in error_of(proc)["message"]
    (project.root / ".animus" / "workflows.yaml").write_text(
        YAML.replace("agent: builder", "agent: ghost")
    )
    proc = runner(project, "execute", "--project-root", str(project.root), "--task-id", task)
    assert proc.returncode == 2
    assert "workflows.yaml:" in error_of(proc)["message"]
    with project.hub() as hub:
        assert hub.runs.list().total == 0
        assert hub.tasks.get(task).status.value == "ready"


def test_a_run_streams_its_events_to_the_socket_and_the_file(
    project: WorkflowProject, tmp_path: Path
) -> None:
    task = project.create_task()
    path = str(tmp_path / "ev.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    received: list[bytes] = []

    def serve() -> None:
        server.settimeout(60)
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(65536):
                received.append(chunk)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    proc = runner(
        project,
        "execute",
        "--project-root",
        str(project.root),
        "--task-id",
        task,
        "--events-socket",
        path,
        "--run-id",
        "wf-sock",
    )
    thread.join(30)
    server.close()
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "completed"
    live = [json.loads(line) for line in b"".join(received).decode().splitlines()]
    with project.hub() as hub:
        stored = list(read_events(hub.paths.run_dir("wf-sock")))
        state = runner_state(hub.runs.get("wf-sock"))
        assert hub.tasks.get(task).status.value == "done"
    assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))
    assert live == stored
    assert stored[0]["kind"] == "workflow_started"
    assert stored[-1]["kind"] == "workflow_completed"
    assert isinstance(stored[0]["payload"]["pid"], int)
    assert state["pid"] is None  # a finished runner forgets itself on the run


def test_a_dead_events_socket_never_hurts_the_run(project: WorkflowProject, tmp_path: Path) -> None:
    task = project.create_task()
    proc = runner(
        project,
        "execute",
        "--project-root",
        str(project.root),
        "--task-id",
        task,
        "--events-socket",
        str(tmp_path / "nobody-listens.sock"),
    )
    assert proc.returncode == 0, proc.stderr


def _wait_for(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _agent_running(p: WorkflowProject, run_id: str) -> bool:
    with p.hub() as hub:
        run_dir = hub.paths.run_dir(run_id)
    return (run_dir / "implement.session.json").exists()


@pytest.mark.parametrize("action", ["pause", "cancel"])
def test_pause_and_cancel_reach_a_running_agent_through_the_database(
    project: WorkflowProject, action: str
) -> None:
    go = project.slow_agent()
    task = project.create_task()
    proc = start(project, "--task-id", task, "--run-id", f"wf-{action}")
    _wait_for(lambda: _agent_running(project, f"wf-{action}"), "the agent session")
    with project.hub() as hub:
        run = hub.runs.get(f"wf-{action}")
        assert runner_alive(run)
        assert runner_state(run)["process_start_time"] == process_start_time(proc.pid)
        request_action(hub, f"wf-{action}", action)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (3 if action == "pause" else 4), err
    with project.hub() as hub:
        run = hub.runs.get(f"wf-{action}")
        t = hub.tasks.get(task)
        assert not runner_alive(run)
    if action == "cancel":
        assert run.status.value == "cancelled"
        assert t.status.value == "cancelled"
        return
    assert run.status.value == "paused"
    # resume continues the stopped agent session through agent/resume and completes
    go.touch()
    done = runner(
        project,
        "execute",
        "--project-root",
        str(project.root),
        "--workflow-id",
        "wf-pause",
        "--resume",
    )
    assert done.returncode == 0, done.stderr
    with project.hub() as hub:
        assert hub.runs.get("wf-pause").status.value == "completed"
        agent_log = hub.paths.run_dir("wf-pause") / "events.jsonl"
    started = [
        json.loads(line)["payload"]
        for line in agent_log.read_text().splitlines()
        if json.loads(line)["type"] == "started"
    ]
    assert [s["resume"] for s in started] == [False, True]


def test_sigterm_pauses_gracefully(project: WorkflowProject) -> None:
    project.slow_agent()
    task = project.create_task()
    proc = start(project, "--task-id", task, "--run-id", "wf-term")
    _wait_for(lambda: _agent_running(project, "wf-term"), "the agent session")
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    with project.hub() as hub:
        run = hub.runs.get("wf-term")
        cps = hub.runs.checkpoints("wf-term")
    assert run.status.value == "paused"
    assert cps[-1].reason.value == "pause"
