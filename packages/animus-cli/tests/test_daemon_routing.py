"""The CLI's data commands through a real daemon's control socket give in-process results.

Two identical fresh projects get the same command scripts: one with no daemon (in process),
one with a real daemon process up (dispatch paused, so nothing runs). Their envelopes and
exit codes must match once timestamps and paths are normalised, and the daemon's metrics
must show that its socket carried the calls.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from animus_cli import _remote_hub
from animus_cli._remote_hub import RemoteHub, connect_remote_hub, routes_through_daemon
from animus_cli.app import run
from animus_cli.testing import CliResult
from animus_core.hub import ServiceHub
from animus_daemon_runtime.client import ControlClient
from animus_plugin_protocol.testing import wait_until
from animus_protocol.envelope import UnavailableError
from animus_protocol.subjects import SubjectRef
from animus_protocol.workflow import WorkflowRun, WorkflowStatus

FAKE_RUNNER = Path(__file__).parents[2] / "animus-daemon-runtime" / "tests" / "fake_runner.py"
Invoke = Callable[..., CliResult]


class Daemon:
    """``python -m animus_daemon_runtime`` for one project, started with dispatch paused."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.hub = ServiceHub(root, env=env)
        self.hub.ensure_ready()
        self.socket = self.hub.paths.control_sock
        self.log = root.parent / "daemon.log"
        state = self.hub.paths.daemon_state
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"runtime_paused": True}))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Daemon:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "animus_daemon_runtime", "--project-root", str(self.root)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(self._ready, 30, "the daemon's control socket")
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited early: {self.log.read_text()[-2000:]}")
        if not self.socket.exists():
            return False
        try:
            with ControlClient(self.socket, timeout=2) as client:
                return bool(client.call("daemon/status")["running"])
        except OSError:
            return False

    def counters(self) -> dict[str, float]:
        with ControlClient(self.socket, timeout=10) as client:
            counters: dict[str, float] = client.call("daemon/metrics")["counters"]
        return {k: v for k, v in counters.items() if k.startswith("control_service_calls_total")}

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(10)


def _seed_runs(root: Path, env: dict[str, str]) -> None:
    """The same two runs in each project (what workflow list/get read)."""
    with ServiceHub(root, env=env) as hub:
        for n, status in ((1, WorkflowStatus.COMPLETED), (2, WorkflowStatus.FAILED)):
            run_ = WorkflowRun(
                id=f"wf-{n:03d}",
                subject=SubjectRef(kind="task", id=f"TASK-{n:03d}"),
                workflow_ref="standard",
                status=status,
                failure_reason="seeded" if status is WorkflowStatus.FAILED else None,
            )
            hub.runs.save(run_)
            hub.runs.add_checkpoint(run_.id, "status-change", "impl", "idle", status)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Daemon]]:
    """(local project, daemon project, its daemon): identical fresh projects."""
    base = tmp_path_factory.mktemp("routing")
    env = {
        **os.environ,
        "ANIMUS_HOME": str(base / "home"),
        "GIT_CEILING_DIRECTORIES": str(base),
        "ANIMUS_WORKFLOW_RUNNER_BIN": f"{sys.executable} {FAKE_RUNNER}",
    }
    env.pop("ANIMUS_NO_DAEMON", None)
    roots = []
    for side in ("local", "daemon"):
        root = base / side / "proj"
        root.mkdir(parents=True)
        _seed_runs(root, env)
        roots.append(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ANIMUS_HOME", env["ANIMUS_HOME"])
        mp.setenv("GIT_CEILING_DIRECTORIES", str(base))
        mp.delenv("ANIMUS_NO_DAEMON", raising=False)
        daemon = Daemon(roots[1], env).start()
        try:
            yield roots[0], roots[1], daemon
        finally:
            daemon.stop()


@pytest.fixture
def animus(capsys: pytest.CaptureFixture[str]) -> Invoke:
    def invoke(root: Path, *args: str) -> CliResult:
        capsys.readouterr()
        code = run(["--project-root", str(root), "--json", *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def _normal(result: CliResult, root: Path) -> tuple[int, Any]:
    text = (result.out or result.err).replace(str(root), "<root>")
    text = _STAMP.sub("<ts>", text)
    return result.code, [json.loads(line) for line in text.splitlines()]


# Each family: the commands run on both projects, in order; (args, expected exit code).
SCRIPTS: dict[str, list[tuple[tuple[str, ...], int]]] = {
    "task": [
        (("task", "create", "--title", "first", "--priority", "high", "--tag", "a,b"), 0),
        (("task", "create", "--title", "second", "--status", "ready"), 0),
        (("task", "list"), 0),
        (("task", "list", "--status", "ready", "--sort", "id"), 0),
        (("task", "get", "TASK-001"), 0),
        (("task", "update", "TASK-001", "--title", "first!", "--add-tag", "c"), 0),
        (("task", "status", "TASK-001", "ready"), 0),
        (("task", "status", "TASK-001", "done"), 4),  # not allowed from ready
        (("task", "dependency", "add", "TASK-002", "TASK-001"), 0),
        (("task", "stats"), 0),
        (("task", "next"), 0),
        (("task", "get", "TASK-404"), 3),
        (("task", "update", "TASK-001"), 2),
        (("task", "set-priority", "TASK-001", "sky-high"), 2),
        (("task", "delete", "TASK-002"), 0),  # a dry run
    ],
    "requirement": [
        (("requirement", "create", "--title", "must have"), 0),
        (("requirement", "list"), 0),
        (("requirement", "get", "REQ-001"), 0),
        (("requirement", "update", "REQ-001", "--description", "why"), 0),
        (("requirement", "comment", "REQ-001", "looks right"), 0),
        (("requirement", "get", "REQ-404"), 3),
        (("requirement", "materialize", "REQ-001"), 0),
    ],
    "queue": [
        (("queue", "enqueue", "--task-id", "TASK-001"), 0),
        (("queue", "enqueue", "--title", "adhoc", "--priority", "low"), 0),
        (("queue", "enqueue", "--task-id", "TASK-001"), 4),  # one queued entry per subject
        (("queue", "list"), 0),
        (("queue", "stats"), 0),
        (("queue", "hold", "--subject-id", "TASK-001", "--reason", "wait"), 0),
        (("queue", "release", "--subject-id", "TASK-001"), 0),
        (("queue", "reorder", "TASK-001"), 0),
        (("queue", "drop", "--all"), 0),  # a dry run without --yes
        (("queue", "drop", "--subject-id", "TASK-001", "--yes"), 0),
        (("queue", "list", "--status", "all"), 0),
        (("queue", "enqueue", "--task-id", "TASK-404"), 3),
    ],
    "history": [
        (("history", "task", "TASK-001"), 0),
        (("history", "recent", "--limit", "5"), 0),
        (("history", "search", "--task-id", "TASK-001", "--since", "7d"), 0),
        (("history", "get", "1"), 0),
        (("history", "get", "99999"), 3),
        (("history", "errors", "list"), 0),
        (("history", "errors", "stats"), 0),
    ],
    "status": [
        (("status",), 0),
        (("status", "--failures", "1"), 0),
    ],
    "workflow": [
        (("workflow", "list"), 0),
        (("workflow", "list", "--status", "failed"), 0),
        (("workflow", "get", "wf-001"), 0),
        (("workflow", "get", "wf-404"), 3),
        (("workflow", "decisions", "wf-002"), 0),
        (("workflow", "checkpoints", "list", "wf-002"), 0),
    ],
}
_SERVICES = {
    "task": "tasks",
    "requirement": "requirements",
    "queue": "queue",
    "history": "history",
    "status": "status",
    "workflow": "runs",
}


@pytest.mark.parametrize("family", list(SCRIPTS))
def test_same_envelopes_and_exit_codes_with_the_daemon_down_and_up(
    pair: tuple[Path, Path, Daemon], animus: Invoke, family: str
) -> None:
    local, remote, daemon = pair
    before = daemon.counters()
    for args, expected in SCRIPTS[family]:
        down = animus(local, *args)
        up = animus(remote, *args)
        assert down.code == expected, (args, down.err)
        assert _normal(up, remote) == _normal(down, local), args
        if expected:  # one error envelope, its exit code the process's
            assert up.error["exit_code"] == expected
    after = daemon.counters()
    used = {k: v - before.get(k, 0) for k, v in after.items() if v > before.get(k, 0)}
    assert any(f"service={_SERVICES[family]}" in k for k in used), (family, used)


def test_no_daemon_flag_and_env_keep_calls_in_process(
    pair: tuple[Path, Path, Daemon], animus: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    _local, remote, daemon = pair
    before = daemon.counters()
    assert animus(remote, "--no-daemon", "task", "list").code == 0
    monkeypatch.setenv("ANIMUS_NO_DAEMON", "1")
    assert animus(remote, "queue", "stats").code == 0
    assert daemon.counters() == before
    monkeypatch.setenv("ANIMUS_NO_DAEMON", "0")  # an explicit "no" routes again
    assert animus(remote, "queue", "stats").code == 0
    assert daemon.counters() != before


def test_only_the_data_commands_are_routed() -> None:
    for path in (["task", "list"], ["queue", "enqueue"], ["status"], ["workflow", "get"]):
        assert routes_through_daemon(path), path
    for path in (
        ["workflow", "run"],
        ["workflow", "phase", "approve"],
        ["daemon", "status"],
        ["demo"],
        ["mcp", "serve"],
        ["subject", "list"],
        [],
    ):
        assert not routes_through_daemon(path), path


def test_a_stale_socket_file_means_in_process_silently(
    tmp_path: Path, animus: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANIMUS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ANIMUS_NO_DAEMON", raising=False)
    root = tmp_path / "proj"
    root.mkdir()
    hub = ServiceHub(root)
    hub.ensure_ready()
    # A socket file nobody listens on (a daemon that died without cleaning up).
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(hub.paths.control_sock))
    sock.close()
    assert hub.paths.control_sock.exists()
    assert connect_remote_hub(hub) is None
    created = animus(root, "task", "create", "--title", "works anyway")
    assert created.code == 0, created.err
    assert created.err == ""
    assert animus(root, "task", "list").data["total"] == 1


@pytest.fixture
def doomed(tmp_path: Path) -> Iterator[Daemon]:
    """A daemon of its own, for tests that stop or kill it."""
    env = {**os.environ, "ANIMUS_HOME": str(tmp_path / "home")}
    env.pop("ANIMUS_NO_DAEMON", None)
    root = tmp_path / "proj"
    root.mkdir()
    daemon = Daemon(root, env).start()
    try:
        yield daemon
    finally:
        daemon.stop()


def _titles(daemon: Daemon) -> list[str]:
    with ServiceHub(daemon.root, env=daemon.env) as hub:
        return [t.title for t in hub.tasks.list().items]


def test_a_mutation_whose_reply_is_lost_is_an_error_and_never_applied_twice(
    doomed: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_remote_hub, "CALL_TIMEOUT_SECS", 1.0)
    local = ServiceHub(doomed.root, env=doomed.env)
    remote = connect_remote_hub(local)
    assert isinstance(remote, RemoteHub)
    doomed.signal(signal.SIGSTOP)  # the request reaches the socket; no reply will come
    with pytest.raises(UnavailableError, match="may or may not have been applied") as err:
        remote.tasks.create(title="sent once")
    assert err.value.details["call"] == "tasks.create"
    assert err.value.hint is not None
    assert err.value.exit_code == 5
    doomed.signal(signal.SIGCONT)  # the daemon reads the request it was sent and applies it
    wait_until(lambda: _titles(doomed) == ["sent once"], 30, "the daemon to apply the create")
    # The client gave up on the socket; later calls run in process, and nothing was redone.
    assert remote.tasks.count_by_status()["backlog"] == 1
    assert _titles(doomed) == ["sent once"]
    remote.close()


def test_a_read_whose_reply_is_lost_falls_back_in_process(
    doomed: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_remote_hub, "CALL_TIMEOUT_SECS", 1.0)
    with ServiceHub(doomed.root, env=doomed.env) as hub:
        hub.tasks.create(title="seen")
    remote = connect_remote_hub(ServiceHub(doomed.root, env=doomed.env))
    assert isinstance(remote, RemoteHub)
    doomed.signal(signal.SIGSTOP)
    page = remote.tasks.list()
    assert [t.title for t in page.items] == ["seen"]
    assert (remote.remote_calls, remote.local_fallbacks, remote.connected) == (0, 1, False)
    remote.close()


def test_a_daemon_killed_after_connect_never_saw_the_call_so_it_runs_once_in_process(
    doomed: Daemon, animus: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANIMUS_HOME", doomed.env["ANIMUS_HOME"])
    remote = connect_remote_hub(ServiceHub(doomed.root, env=doomed.env))
    assert isinstance(remote, RemoteHub)
    doomed.signal(signal.SIGKILL)
    assert doomed.proc is not None
    doomed.proc.wait(10)
    task = remote.tasks.create(title="after the crash")
    assert (remote.remote_calls, remote.local_fallbacks) == (0, 1)
    assert _titles(doomed) == [task.title]
    remote.close()
    # The CLI on a dead daemon's leftover socket: in process, same envelope shape.
    listed = animus(doomed.root, "task", "list")
    assert listed.data["total"] == 1


def test_the_cli_reports_a_lost_mutation_with_an_unavailable_envelope(
    doomed: Daemon, animus: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANIMUS_HOME", doomed.env["ANIMUS_HOME"])
    monkeypatch.setattr(_remote_hub, "CALL_TIMEOUT_SECS", 1.0)
    doomed.signal(signal.SIGSTOP)
    result = animus(doomed.root, "task", "create", "--title", "in doubt")
    error = result.error
    assert (result.code, error["code"]) == (5, "unavailable")
    assert "may or may not have been applied" in error["message"]
    assert "daemon" in error["details"]["hint"]
    doomed.signal(signal.SIGKILL)  # dies without reading it: never applied, never retried
    assert doomed.proc is not None
    doomed.proc.wait(10)
    assert _titles(doomed) == []


def test_a_call_the_daemon_refuses_before_running_runs_in_process(
    doomed: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Version skew: the client allows a method this daemon does not serve."""
    from animus_protocol import control

    widened = {**control.SERVICE_CALLS}
    widened["queue"] = widened["queue"] | {"entry_for_subject"}
    monkeypatch.setattr(control, "SERVICE_CALLS", widened)
    with ServiceHub(doomed.root, env=doomed.env) as hub:
        task = hub.tasks.create(title="queued", status="ready")
        hub.queue.enqueue_subject("task", task.id)
    remote = connect_remote_hub(ServiceHub(doomed.root, env=doomed.env))
    assert isinstance(remote, RemoteHub)
    entry = remote.queue.entry_for_subject(task.id)
    assert entry is not None
    assert entry.subject_key == task.id
    assert (remote.remote_calls, remote.local_fallbacks, remote.connected) == (1, 1, False)
    remote.close()
