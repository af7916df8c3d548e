"""Test helpers: a project, a real daemon process, bounded waits, the fake runner."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from animus_core.hub import ServiceHub
from animus_daemon_runtime.client import ControlClient
from animus_plugin_protocol.testing import wait_until

FAKE_RUNNER = Path(__file__).with_name("fake_runner.py")
T = TypeVar("T")


class Project:
    def __init__(self, tmp_path: Path, **runner_env: str) -> None:
        self.root = tmp_path / "proj"
        self.root.mkdir(exist_ok=True)
        self.home = tmp_path / "home"
        self.trace = tmp_path / "trace.log"
        self.env = {
            **os.environ,
            "ANIMUS_HOME": str(self.home),
            "ANIMUS_WORKFLOW_RUNNER_BIN": f"{sys.executable} {FAKE_RUNNER}",
            "FAKE_RUNNER_TRACE": str(self.trace),
            "FAKE_RUNNER_PHASE_SECS": "0.05",
            **runner_env,
        }
        self.hub = ServiceHub(self.root, env=self.env)
        self.hub.ensure_ready()
        self.paths = self.hub.paths

    def tasks(self, n: int) -> list[str]:
        return [self.hub.tasks.create(title=f"task {i}", status="ready").id for i in range(n)]

    def enqueue(self, task_ids: list[str]) -> list[str]:
        return [self.hub.queue.enqueue_subject("task", t).entry_id for t in task_ids]

    def client(self, timeout: float = 10.0) -> ControlClient:
        return ControlClient(self.paths.control_sock, timeout=timeout)

    def trace_lines(self) -> list[tuple[str, str, float]]:
        if not self.trace.exists():
            return []
        out = []
        for line in self.trace.read_text().splitlines():
            what, wf, ts, _pid = line.split()
            out.append((what, wf, float(ts)))
        return out

    def max_concurrency(self) -> int:
        current = best = 0
        for what, _wf, _ts in sorted(self.trace_lines(), key=lambda x: x[2]):
            current += 1 if what == "start" else -1
            best = max(best, current)
        return best

    def run_events(self, workflow_id: str) -> list[dict[str, Any]]:
        path = self.paths.run_dir(workflow_id) / "workflow-events.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []

    def write_workflows(self, extra_yaml: str) -> None:
        path = self.root / ".animus" / "workflows.yaml"
        path.write_text(path.read_text() + "\n" + extra_yaml)


class DaemonProcess:
    """``python -m animus_daemon_runtime`` as a real child process."""

    def __init__(self, project: Project, *args: str, env: dict[str, str] | None = None) -> None:
        self.project = project
        self.args = args
        self.env = {**project.env, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> DaemonProcess:
        log = open(self.project.root.parent / "daemon-stdout.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "animus_daemon_runtime",
                "--project-root",
                str(self.project.root),
                *self.args,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if wait:
            wait_until(self._ready, 30, "the daemon's control socket")
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited early ({self.proc.returncode}): {self.output()}")
        if not self.project.paths.control_sock.exists():
            return False
        try:
            with self.project.client(2) as c:
                return c.call("daemon/status")["status"] in ("running", "paused")
        except OSError:
            return False

    def output(self) -> str:
        path = self.project.root.parent / "daemon-stdout.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


@contextlib.contextmanager
def running_daemon(
    project: Project, *args: str, env: dict[str, str] | None = None
) -> Iterator[DaemonProcess]:
    daemon = DaemonProcess(project, *args, env=env).start()
    try:
        yield daemon
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            try:
                daemon.stop(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
        kill_leftover_runners(project)


def kill_leftover_runners(project: Project) -> None:
    """Runners live in their own sessions; a failed test must not leave them behind."""
    from animus_daemon_runtime.runner_process import read_runner_record

    runs = project.paths.runs_dir
    if not runs.exists():
        return
    for run_dir in runs.iterdir():
        rec = read_runner_record(project.paths, run_dir.name)
        if rec is not None and rec.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(rec.pid, signal.SIGKILL)


def task_statuses(project: Project, ids: list[str]) -> dict[str, str]:
    return {t: project.hub.tasks.get(t).status.value for t in ids}


def raw_socket(project: Project) -> socket.socket:
    """A plain connection to the control socket, for frames no client would send."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(project.paths.control_sock))
    return sock


def read_json_line(sock: socket.socket, buf: bytearray) -> dict[str, Any]:
    """The next NDJSON frame from ``sock`` (``buf`` keeps what follows it)."""
    while b"\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        buf.extend(chunk)
    line, _, rest = bytes(buf).partition(b"\n")
    buf[:] = rest
    value: dict[str, Any] = json.loads(line)
    return value
