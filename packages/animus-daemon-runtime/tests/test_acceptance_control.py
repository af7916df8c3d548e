"""Issue 6 acceptance, the control socket, against a real daemon process:

- every method of ``CONTROL_METHOD_SPECS`` is driven by a client in another process (this
  test process), and every result is checked against the method's wire model; the test
  fails when a method is added to the table without being driven here;
- malformed frames, unknown methods, an oversized frame, a half-sent frame, a client that
  never reads its stream, a peer of another uid and a socket file opened to everyone are
  each handled while a second client stays connected: its stream keeps delivering every
  item and its calls keep being answered.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from _support import Project, raw_socket, read_json_line, running_daemon, wait_until

from animus_daemon_runtime.client import ControlClient
from animus_protocol.control import (
    CONTROL_METHOD_SPECS,
    STREAM_METHODS,
    decode_value,
    parse_control_result,
    parse_stream_item,
)
from animus_protocol.envelope import NotFoundError

NOTIFIER = """#!{python}
from animus_plugin_protocol.runtime import Plugin

plugin = Plugin("animus-acceptance-notifier", "0.1.0", "notifier", "accepts every event")

@plugin.method("notifier/notify")
async def notify(params, ctx):
    return {{"accepted": True, "delivered": 1}}

plugin.main()
"""

# Methods the daemon answers with ``not_supported`` and a hint (they change the installation
# or the project itself, which the ``animus`` command does in process). Listed here so that
# serving one of them later makes this test say so.
NOT_SERVED = {
    "daemon/restart",
    "agent/run",
    "plugin/install",
    "plugin/uninstall",
    "plugin/call",
    "plugin/search",
    "plugin/browse",
    "plugin/update",
    "project/init",
    "project/setup",
}


class Driver:
    """Sends each method, checks the answer, remembers which methods it drove."""

    def __init__(self, client: ControlClient) -> None:
        self.client = client
        self.driven: set[str] = set()

    def ok(self, method: str, params: Any = None) -> Any:
        reply = self.client.wait_reply(self.client.request(method, params), 30)
        assert "error" not in reply, (method, reply)
        self.driven.add(method)
        parse_control_result(method, reply["result"])  # fits the method's wire model
        return reply["result"]

    def refused(self, method: str, params: Any, category: str) -> dict[str, Any]:
        reply = self.client.wait_reply(self.client.request(method, params), 30)
        assert "error" in reply, (method, reply)
        error: dict[str, Any] = reply["error"]
        assert error["data"]["category"] == category, (method, error)
        assert error["message"]
        self.driven.add(method)
        return error

    def stream(self, method: str, params: Any, make_item: Any) -> Any:
        ident = self.client.request(method, params)
        ack = self.client.wait_reply(ident, 30)
        assert ack.get("result") == {"watching": True}, (method, ack)
        parse_control_result(method, ack["result"])
        make_item()
        while True:
            message = self.client.read_message(30)
            assert message is not None, f"{method}: connection closed"
            params_ = message.get("params") or {}
            if params_.get("id") == ident and "data" in params_:
                parse_stream_item(method, params_["data"])  # fits the item model
                break
        self.client.cancel(ident)
        self.driven.add(method)
        return params_["data"]


def _recorded(project: Project, workflow_id: str) -> None:
    """``workflow/run`` answers once the runner is spawned; the run's row appears when the
    runner has recorded it (until then pause/cancel of that id answer not_found)."""

    def exists() -> bool:
        try:
            project.hub.runs.get(workflow_id)
        except NotFoundError:
            return False
        return True

    wait_until(exists, 30, f"run {workflow_id} recorded")


def _plugin(project: Project) -> None:
    plugins = project.root / ".animus" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    script = plugins / "animus-acceptance-notifier"
    script.write_text(NOTIFIER.format(python=sys.executable))
    script.chmod(0o755)


def test_every_control_method_is_driven_and_answers_in_its_wire_model(tmp_path: Path) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="1.0")
    _plugin(project)
    first, second, third = project.tasks(3)
    with (
        running_daemon(project, "--interval-secs", "30") as daemon,
        project.client(30) as client,
    ):
        d = Driver(client)
        # daemon/*
        assert d.ok("daemon/start") == {}  # it is running: nothing to do
        assert d.ok("daemon/status")["running"] is True
        assert d.ok("daemon/health")["status"] in ("healthy", "degraded")
        assert d.ok("daemon/pause")["runtime_paused"] is True
        assert d.ok("daemon/resume")["runtime_paused"] is False
        assert d.ok("daemon/nudge", {"reason": "acceptance"}) == {}
        # subject/*
        created = d.ok("subject/create", {"kind": "task", "title": "from the socket"})
        assert d.ok("subject/get", {"id": created["id"]})["title"] == "from the socket"
        assert d.ok("subject/list", {"filter": {"kind": ["task"]}})["subjects"]
        assert d.ok("subject/update", {"id": created["id"], "patch": {"labels_add": ["a"]}})[
            "labels"
        ] == ["a"]
        assert d.ok("subject/next", {"kind": "task"})["subject"] is not None
        assert d.ok("subject/status", {"id": created["id"], "status": "ready"})["status"] == "ready"
        # queue/*
        d.ok("daemon/pause")
        entry = d.ok("queue/enqueue", {"task_id": created["id"]})
        assert d.ok("queue/hold", {"id": entry["id"], "reason": "later"}) == {}
        assert d.ok("queue/list", {"status": "held"})["entries"][0]["id"] == entry["id"]
        assert d.ok("queue/release", {"id": entry["id"]}) == {}
        assert d.ok("queue/reorder", {"subject_ids": [created["id"]], "position": "front"}) == {}
        assert d.ok("queue/stats")["ready"] == 1
        assert d.ok("queue/drop", {"id": entry["id"]}) == {}
        d.ok("daemon/resume")
        # workflow/* and agent/* against live runners
        ran = d.ok("workflow/run", {"task_id": first})
        executed = d.ok("workflow/execute", {"definition": "standard", "subject_id": second})
        assert (ran["status"], executed["status"]) == ("running", "running")
        agents = d.ok("daemon/agents")["agents"]
        assert {a["workflow_id"] for a in agents} == {ran["workflow_id"], executed["workflow_id"]}
        session = f"runner:{ran['workflow_id']}"
        assert d.ok("agent/status", {"id": session})["status"] == "running"
        assert d.ok("agent/cancel", {"session_id": session}) == {}  # its effect: see below
        _recorded(project, executed["workflow_id"])
        assert d.ok("workflow/pause", {"id": executed["workflow_id"]}) == {}
        wait_until(
            lambda: project.hub.runs.get(executed["workflow_id"]).status.value == "paused",
            30,
            "the paused run",
        )
        assert d.ok("workflow/resume", {"id": executed["workflow_id"]}) == {}
        third_run = d.ok("workflow/run", {"task_id": third})["workflow_id"]
        _recorded(project, third_run)
        assert d.ok("workflow/cancel", {"id": third_run, "reason": "acceptance"}) == {}
        assert d.ok("workflow/get", {"id": executed["workflow_id"]})["subject_id"] == second
        assert len(d.ok("workflow/list")["runs"]) == 3
        # plugin/* and project/*
        names = [p["name"] for p in d.ok("plugin/list")["plugins"]]
        assert "animus-acceptance-notifier" in names
        assert d.ok("plugin/info", {"name": "animus-acceptance-notifier"})["kind"] == "notifier"
        assert d.ok("plugin/ping", {"name": "animus-acceptance-notifier"})["ok"] is True
        assert d.ok("project/status")["repo_scope"] == project.paths.scope
        assert d.ok("daemon/metrics")["counters"]
        # the streams: an ack, then one item in the stream's item model, then cancelled
        d.stream("daemon/events", {}, lambda: client.call("daemon/pause"))
        client.call("daemon/resume")
        d.stream(
            "subject/watch",
            {"kind": "task"},
            lambda: client.call("subject/create", {"kind": "task", "title": "watched"}),
        )
        d.stream("workflow/events", {"workflow_id": executed["workflow_id"]}, lambda: None)
        d.stream("daemon/logs", {"follow": False}, lambda: None)
        # the rest answer not_supported, with a hint, and leave the connection usable
        params: dict[str, Any] = {
            "daemon/restart": {},
            "agent/run": {"provider": "mock", "model": "m", "prompt": "hi"},
            "plugin/install": {"source": "x"},
            "plugin/uninstall": {"name": "animus-acceptance-notifier"},
            "plugin/call": {"name": "animus-acceptance-notifier", "method": "health/check"},
            "plugin/search": {"query": "slack"},
            "plugin/browse": {},
            "plugin/update": {"dry_run": True},
            "project/init": {},
            "project/setup": {},
        }
        for method in sorted(NOT_SERVED):
            error = d.refused(method, params[method], "not_supported")
            assert (
                error["data"].get("hint")
                or error["data"].get("details", {}).get("hint")
                or ("animus" in error["message"])
            ), error
        assert client.call("daemon/status")["running"] is True
        wait_until(
            lambda: project.hub.runs.get(executed["workflow_id"]).status.value == "completed",
            60,
            "the resumed run",
        )
        # service/call (this implementation's extension): one allowlisted hub call
        stats = decode_value(d.ok("service/call", {"service": "queue", "method": "stats"})["value"])
        assert stats == project.hub.queue.stats()
        d.refused("service/call", {"service": "db", "method": "execute"}, "not_supported")
        # and last, daemon/stop: the daemon drains and exits
        assert d.ok("daemon/stop", {"timeout_secs": 10}) == {}
        assert daemon.proc is not None
        assert daemon.proc.wait(30) == 0
    assert d.driven == set(CONTROL_METHOD_SPECS)  # every method of the table, no more
    assert d.driven >= STREAM_METHODS


# -- abuse, with a second client watching -----------------------------------------------------


class Witness:
    """A second, well-behaved client: a ``daemon/events`` stream read along in a thread."""

    def __init__(self, project: Project) -> None:
        self.client = project.client(60)
        self.items: list[dict[str, Any]] = []
        self.closed: list[Any] = []
        ident = self.client.request("daemon/events")
        assert self.client.wait_reply(ident)["result"] == {"watching": True}
        self.ident = ident
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                message = self.client.read_message(60)
            except OSError:
                return
            if message is None:
                return
            if message.get("method") == "subscription/closed":
                self.closed.append(message["params"])
                return
            if message.get("method") == "daemon/event":
                self.items.append(message["params"]["data"])

    def still_served(self, caller: ControlClient) -> None:
        """The witness's stream delivers two new events and the caller gets answers."""
        before = len(self.items)
        assert caller.call("daemon/pause")["runtime_paused"] is True
        assert caller.call("daemon/resume")["runtime_paused"] is False
        wait_until(lambda: len(self.items) >= before + 2, 30, "the witness's stream items")
        assert not self.closed
        assert caller.call("daemon/status")["running"] is True


_AS_NOBODY = """
import json, os, socket, sys
os.setgid(65534)
os.setuid(65534)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except PermissionError:
    print("EACCES")
    sys.exit(0)
try:
    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"daemon/status"}\\n')
except BrokenPipeError:
    pass
print(s.recv(65536).decode().strip())
"""


def _as_nobody(sock_path: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", _AS_NOBODY, sock_path],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_each_kind_of_abuse_leaves_a_second_client_undisturbed(tmp_path: Path) -> None:
    project = Project(tmp_path)
    env = {"ANIMUS_SUBSCRIBER_BUFFER_ITEMS": "300", "ANIMUS_CONTROL_OUTGOING_FRAMES": "64"}
    with (
        running_daemon(project, "--interval-secs", "30", env=env),
        project.client(30) as caller,
    ):
        witness = Witness(project)
        witness.still_served(caller)

        # Malformed frames: each gets a parse/invalid-request error on the same connection.
        bad = raw_socket(project)
        buf = bytearray()
        for frame, code in [
            (b"this is not json\n", -32700),
            (b"\xff\xfe\xfd\n", -32700),
            (b"[1, 2, 3]\n", -32600),
            (b"42\n", -32600),
            (b'{"jsonrpc":"2.0","id":{"no":1},"method":"daemon/status"}\n', -32600),
            (b'{"jsonrpc":"2.0","id":7,"method":"queue/hold","params":{"id":""}}\n', None),
        ]:
            bad.sendall(frame)
            reply = read_json_line(bad, buf)
            if code is None:
                assert reply["error"]["data"]["category"] == "invalid_request", reply
            else:
                assert reply["error"]["code"] == code, (frame, reply)
        witness.still_served(caller)

        # Unknown methods.
        bad.sendall(b'{"jsonrpc":"2.0","id":8,"method":"no/such"}\n')
        reply = read_json_line(bad, buf)
        assert (reply["id"], reply["error"]["code"]) == (8, -32601)
        witness.still_served(caller)

        # An oversized frame (3 MiB against a 1 MiB limit), sent in pieces.
        bad.sendall(b'{"jsonrpc":"2.0","id":9,"method":"daemon/nudge","params":{"reason":"')
        for _ in range(48):
            bad.sendall(b"x" * 65536)
        bad.sendall(b'"}}\n')
        assert read_json_line(bad, buf)["error"]["code"] == -32700
        bad.sendall(b'{"jsonrpc":"2.0","id":10,"method":"daemon/status"}\n')
        assert read_json_line(bad, buf)["result"]["running"] is True  # that connection carries on
        witness.still_served(caller)

        # A client that sends half a frame and vanishes.
        half = raw_socket(project)
        half.sendall(b'{"jsonrpc":"2.0","id":1,"method":"daemon/sta')
        half.close()
        witness.still_served(caller)

        # A client that opens a stream and never reads it, while the stream floods.
        lazy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        lazy.connect(str(project.paths.control_sock))
        lazy.sendall(b'{"jsonrpc":"2.0","id":1,"method":"daemon/events"}\n')
        wait_until(
            lambda: caller.call("daemon/status")["subscribers"]["daemon/event"] == 2,
            30,
            "the lazy stream",
        )
        before = len(witness.items)
        for _ in range(1500):
            caller.call("daemon/pause")
            caller.call("daemon/resume")
        wait_until(lambda: len(witness.items) >= before + 3000, 60, "every flooded event")
        assert not witness.closed  # the witness kept up and got all of them
        wait_until(
            lambda: caller.call("daemon/status")["subscribers"]["daemon/event"] == 1,
            30,
            "the lazy stream to be cut",
        )
        lazy.settimeout(5)
        seen = b""
        try:
            while b"buffer_full_lagged" not in seen:
                chunk = lazy.recv(1 << 20)
                if not chunk:
                    break
                seen += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        assert b"buffer_full_lagged" in seen  # told why, when it finally reads
        lazy.close()
        witness.still_served(caller)

        witness.client.close()


@pytest.mark.skipif(os.getuid() != 0, reason="switching to another uid (65534) needs root")
def test_another_uid_and_a_socket_file_open_to_all_leave_a_second_client_undisturbed(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path)
    with running_daemon(project, "--interval-secs", "30"), project.client(30) as caller:
        witness = Witness(project)
        witness.still_served(caller)
        sock_path = str(project.paths.control_sock)
        opened = [p for p in Path(sock_path).parents if p != Path("/")]
        modes = {p: stat.S_IMODE(p.stat().st_mode) for p in opened}
        try:
            for p in opened:
                os.chmod(p, modes[p] | 0o011)  # noqa: S103 - traverse only, restored below
            # Another uid, socket 0600: the kernel keeps it out.
            assert _as_nobody(sock_path) == "EACCES"
            witness.still_served(caller)
            # The socket file opened to everyone: the SO_PEERCRED check still refuses it.
            os.chmod(sock_path, 0o666)  # noqa: S103 - the misconfiguration under test
            refused = json.loads(_as_nobody(sock_path))
            assert refused["error"]["data"]["category"] == "permission_denied"
            assert "uid 65534" in refused["error"]["message"]
            witness.still_served(caller)
        finally:
            os.chmod(sock_path, 0o600)
            for p, mode in modes.items():
                os.chmod(p, mode)
        assert '"control-refused"' in project.paths.events_log.read_text()
        witness.client.close()


def test_agent_cancel_of_a_runner_session_cancels_its_run(tmp_path: Path) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="1.0")
    (task,) = project.tasks(1)
    with running_daemon(project, "--interval-secs", "30"), project.client(30) as client:
        workflow_id = client.call("workflow/run", {"task_id": task})["workflow_id"]
        _recorded(project, workflow_id)
        client.call("agent/cancel", {"session_id": f"runner:{workflow_id}"})
        final = wait_until(
            lambda: (
                (s := project.hub.runs.get(workflow_id).status.value)
                in ("completed", "cancelled", "failed")
                and s
            ),
            30,
            "the run to end",
        )
    assert final == "cancelled"


@pytest.mark.parametrize("action", ["cancel", "pause"])
def test_pause_or_cancel_right_after_workflow_run_reaches_the_starting_run(
    tmp_path: Path, action: str
) -> None:
    """workflow/run answers with the id of a runner that has not recorded its run yet (the
    fake runner takes a Python start-up to do so); a pause or cancel sent at once waits for
    that record instead of answering not_found."""
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="1.0")
    (task,) = project.tasks(1)
    with running_daemon(project, "--interval-secs", "30"), project.client(30) as client:
        started = client.call("workflow/run", {"task_id": task})
        assert started["status"] == "running"
        workflow_id = started["workflow_id"]
        assert client.call(f"workflow/{action}", {"id": workflow_id}) == {}
        final = wait_until(
            lambda: (
                (s := project.hub.runs.get(workflow_id).status.value)
                in ("completed", "cancelled", "failed", "paused")
                and s
            ),
            30,
            "the run to settle",
        )
    assert final == {"cancel": "cancelled", "pause": "paused"}[action]
