"""``animus-workflow-runner forkserver``: the wire, bad requests, and that a forked child is
the same ``execute`` a fresh process would be (own session, exact environment, cwd, log)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from animus_workflow_runner.forkserver import PRELOAD_PACKAGES, preload
from animus_workflow_runner.testing import QUICK_WORKFLOW, WorkflowProject, make_workflow_project

pytestmark = pytest.mark.timeout(120)

YAML = QUICK_WORKFLOW


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "animus_workflow_runner.cli", "forkserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.pending: list[dict[str, Any]] = []
        self.hello = self.read()

    def send(self, raw: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(raw)
        self.proc.stdin.flush()

    def request(self, **fields: Any) -> None:
        self.send((json.dumps(fields) + "\n").encode())

    def read(self) -> dict[str, Any]:
        if self.pending:
            return self.pending.pop(0)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "the forkserver closed its output"
        message = json.loads(line)
        assert isinstance(message, dict)
        return message

    def read_until(self, key: str, value: Any = None) -> dict[str, Any]:
        seen = []
        while True:
            message = self.read()
            if key in message and (value is None or message[key] == value):
                self.pending[:0] = seen
                return message
            seen.append(message)

    def close(self) -> int:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        code = self.proc.wait(30)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return code


@pytest.fixture
def project(tmp_path: Path) -> WorkflowProject:
    return make_workflow_project(tmp_path, YAML)


@pytest.fixture
def server(project: WorkflowProject) -> Iterator[Server]:
    srv = Server(project.env)
    yield srv
    if srv.proc.poll() is None:
        srv.close()


def test_ready_line_names_the_process_and_preloads_everything(server: Server) -> None:
    assert server.hello["ready"] is True
    assert server.hello["pid"] == server.proc.pid
    assert server.hello["failed"] == []
    assert preload(["animus_no_such_package"]) == ["animus_no_such_package"]


def test_preload_builds_every_deferred_wire_model() -> None:
    """Plugin wire models are declared with defer_build; the forkserver builds them all
    once, so no forked runner pays for a model on first use."""
    code = (
        "from animus_plugin_protocol.kinds.trigger import TriggerEvent\n"
        "before = TriggerEvent.__pydantic_complete__\n"
        "from animus_workflow_runner.forkserver import preload\n"
        "preload()\n"
        "from pydantic import BaseModel\n"
        "def walk(c):\n"
        "    for s in c.__subclasses__():\n"
        "        yield s\n"
        "        yield from walk(s)\n"
        "left = [c.__qualname__ for c in walk(BaseModel) if not c.__pydantic_complete__]\n"
        "print(before, TriggerEvent.__pydantic_complete__, left)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split(" ", 2) == ["False", "True", "[]\n"], out.stdout
    assert "animus_workflow_runner" in PRELOAD_PACKAGES


@pytest.mark.usefixtures("env_dump_yaml")
def test_a_forked_execute_completes_a_run_with_its_own_session_env_and_log(
    project: WorkflowProject, tmp_path: Path
) -> None:
    # The forkserver's own environment has a variable the child's request does not.
    server = Server(dict(project.env, FORKSERVER_ONLY="1"))
    task_id = project.create_task()
    log = tmp_path / "runner.log"
    env = dict(project.env, FORKSERVER_MARK="child-only")
    server.request(
        id=7,
        argv=["execute", "--project-root", str(project.root), "--task-id", task_id],
        cwd=str(project.root),
        env=env,
        log=str(log),
    )
    reply = server.read_until("id", 7)
    pid = reply["pid"]
    assert isinstance(pid, int)
    # Its own session and group, like a spawned runner (signals reach its agents too); the
    # pid is answered only once that holds, so this cannot race the child.
    assert os.getsid(pid) == pid
    end = server.read_until("exit", pid)
    server.close()
    assert end["code"] == 0
    outcome = json.loads(log.read_text().strip().splitlines()[-1])
    assert outcome["status"] == "completed"
    run = project.hub().runs.get(outcome["workflow_id"])
    assert [p.phase_id for p in run.phases] == ["implement", "check"]
    # The command phase ran in the child's cwd and saw exactly the child's environment.
    dump = dict(
        line.split("=", 1)
        for line in (project.root / "env.txt").read_text().splitlines()
        if "=" in line
    )
    assert dump["FORKSERVER_MARK"] == "child-only"
    assert "FORKSERVER_ONLY" not in dump


@pytest.fixture
def env_dump_yaml(project: WorkflowProject) -> None:
    (project.root / ".animus" / "workflows.yaml").write_text(
        YAML.replace(
            'command: { program: "true" }',
            'command: { program: "sh", args: ["-c", "env > env.txt"], cwd_mode: project_root }',
        )
    )


def test_exit_codes_and_signals_are_reported(
    server: Server, project: WorkflowProject, tmp_path: Path
) -> None:
    server.request(
        id=1,
        argv=["execute", "--project-root", str(tmp_path / "missing"), "--task-id", "T"],
        cwd=str(tmp_path),
        env=project.env,
        log=str(tmp_path / "bad.log"),
    )
    pid = server.read_until("id", 1)["pid"]
    assert server.read_until("exit", pid)["code"] == 2
    assert "is not a directory" in (tmp_path / "bad.log").read_text()
    # A run whose agent works until told: killing its group is reported as -9.
    project.slow_agent()
    task_id = project.create_task()
    server.request(
        id=2,
        argv=[
            *("execute", "--project-root", str(project.root)),
            *("--task-id", task_id, "--run-id", "wf-slow"),
        ],
        cwd=str(project.root),
        env=project.env,
        log=str(tmp_path / "slow.log"),
    )
    pid = server.read_until("id", 2)["pid"]
    # The answer comes after the child leads its session: its group can be signalled now.
    assert os.getpgid(pid) == pid
    events = project.hub().paths.run_dir("wf-slow") / "workflow-events.jsonl"
    deadline = time.monotonic() + 60
    while "implement" not in (events.read_text() if events.exists() else ""):
        assert time.monotonic() < deadline, "the run never reached its agent phase"
        time.sleep(0.05)
    # A fresh interpreter's signal dispositions: SIGPIPE ignored (a dead daemon's socket
    # must raise, not kill the runner) and SIGINT caught (KeyboardInterrupt).
    masks = {
        line.split(":")[0]: int(line.split()[1], 16)
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith(("SigIgn", "SigCgt"))
    }
    assert masks["SigIgn"] & (1 << (signal.SIGPIPE - 1))
    assert masks["SigCgt"] & (1 << (signal.SIGINT - 1))
    os.killpg(pid, 9)
    assert server.read_until("exit", pid)["code"] == -9


def test_bad_requests_get_errors_and_the_server_keeps_serving(
    server: Server, project: WorkflowProject, tmp_path: Path
) -> None:
    server.send(b"this is not json\n")
    assert "malformed request" in server.read()["error"]
    server.send(b"[1, 2]\n")
    assert server.read()["error"] == "a request is a JSON object"
    good = {"argv": ["--version"], "cwd": str(tmp_path), "env": {}, "log": str(tmp_path / "v")}
    bad = {
        "argv": ("execute", "a request needs 'argv': a list of strings"),
        "cwd": (None, "a request needs 'cwd': a non-empty path"),
        "log": ("", "a request needs 'log': a non-empty path"),
        "env": ({"A": 1}, "a request needs 'env': an object of strings"),
    }
    for n, (field, (value, message)) in enumerate(bad.items(), start=10):
        request = {**good, field: value}
        if value is None:
            del request[field]
        server.request(id=n, **request)
        assert server.read_until("id", n)["error"] == message
    server.request(id=4, argv=["--version"], cwd=str(tmp_path), env={}, log=str(tmp_path / "v"))
    pid = server.read_until("id", 4)["pid"]
    assert server.read_until("exit", pid)["code"] == 0
    assert "animus-workflow-runner" in (tmp_path / "v").read_text()


def test_end_of_input_ends_the_server_but_not_its_children(
    server: Server, project: WorkflowProject, tmp_path: Path
) -> None:
    go = project.slow_agent()
    task_id = project.create_task()
    log = tmp_path / "run.log"
    server.request(
        id=5,
        argv=["execute", "--project-root", str(project.root), "--task-id", task_id],
        cwd=str(project.root),
        env=project.env,
        log=str(log),
    )
    pid = server.read_until("id", 5)["pid"]
    assert server.close() == 0
    # The server is gone; its child (its own session) is still working, and finishes.
    assert os.path.exists(f"/proc/{pid}")
    go.touch()
    deadline = time.monotonic() + 60
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    outcome = json.loads(log.read_text().strip().splitlines()[-1])
    assert outcome["status"] == "completed"
