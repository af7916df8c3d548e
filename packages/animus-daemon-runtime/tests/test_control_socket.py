"""The control socket, driven from another process (this test process) over a real socket."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import threading
from typing import Any

import pytest
from _support import DaemonProcess, Project, raw_socket, read_json_line, running_daemon, wait_until

from animus_daemon_runtime.client import ControlClient
from animus_protocol.envelope import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    NotSupportedError,
    PermissionDeniedError,
)


def test_every_method_group_over_the_socket(project: Project) -> None:
    (task,) = project.tasks(1)
    with running_daemon(project, "--interval-secs", "30"), project.client() as c:
        # socket file: owner-only
        assert stat.S_IMODE(os.stat(project.paths.control_sock).st_mode) == 0o600
        status = c.call("daemon/status")
        assert status["running"] is True
        assert "queue/enqueue" in status["capabilities"]["methods"]
        assert c.call("daemon/health")["status"] in ("healthy", "degraded")
        # subject/*
        created = c.call("subject/create", {"kind": "task", "title": "from the socket"})
        assert created["title"] == "from the socket"
        assert c.call("subject/get", {"id": task})["id"] == task
        listed = c.call("subject/list", {"filter": {"kind": ["task"], "limit": 1}})
        assert len(listed["subjects"]) == 1
        assert listed["next_cursor"] == "1"
        assert c.call("subject/next", {"kind": "task"})["subject"]["id"] in (task, created["id"])
        patched = c.call("subject/update", {"id": created["id"], "patch": {"labels_add": ["x"]}})
        assert "x" in patched["labels"]
        assert (
            c.call("subject/status", {"id": created["id"], "status": "ready"})["status"] == "ready"
        )
        with pytest.raises(NotFoundError):
            c.call("subject/get", {"id": "TASK-999"})
        # queue/*
        c.call("daemon/pause")
        entry = c.call("queue/enqueue", {"task_id": task})
        assert entry["status"] == "ready"
        with pytest.raises(ConflictError):
            c.call("queue/enqueue", {"task_id": task})
        c.call("queue/hold", {"id": entry["id"], "reason": "wait"})
        assert c.call("queue/list", {"status": "held"})["entries"][0]["hold_reason"] == "wait"
        assert c.call("queue/stats")["held"] == 1
        c.call("queue/release", {"id": entry["id"]})
        c.call("queue/reorder", {"subject_ids": [task], "position": "front"})
        with pytest.raises(NotSupportedError):
            c.call("queue/reorder", {"subject_ids": [task], "position": "back"})
        c.call("queue/drop", {"id": entry["id"]})
        assert c.call("queue/list", {"status": "dropped"})["entries"][0]["id"] == entry["id"]
        with pytest.raises(NotFoundError):
            c.call("queue/drop", {"id": "QE-999999"})
        with pytest.raises(InvalidInputError):
            c.call("queue/enqueue", {})
        # workflow/*
        c.call("daemon/resume")
        started = c.call("workflow/run", {"task_id": task})
        assert started["status"] == "running"
        wf = started["workflow_id"]
        wait_until(lambda: _run_status(c, wf) == "completed", 60, "run done")
        got = c.call("workflow/get", {"id": wf})
        assert got["detail"]["id"] == wf
        assert got["subject_id"] == task
        assert c.call("workflow/list", {"status": "completed"})["runs"][0]["id"] == wf
        with pytest.raises(ConflictError):
            c.call("workflow/cancel", {"id": wf})
        with pytest.raises(NotFoundError):
            c.call("workflow/pause", {"id": "wf-nope"})
        events = list(c.stream("workflow/events", {"workflow_id": wf}, idle_timeout=0.5))
        kinds = [data["kind"] for name, data in events if name == "workflow/event"]
        assert kinds[0] == "workflow_started"
        assert kinds[-1] == "workflow_completed"  # replayed from the run's event file
        # agent/*, plugin/*, project/*, metrics
        assert c.call("daemon/agents") == {"agents": []}
        with pytest.raises(NotFoundError):
            c.call("agent/status", {"id": "runner:wf-nope"})
        with pytest.raises(NotSupportedError):
            c.call("agent/run", {"provider": "x", "model": "y", "prompt": "z"})
        plugins = c.call("plugin/list", {"include_warnings": True})
        assert isinstance(plugins["plugins"], list)
        with pytest.raises(NotFoundError):
            c.call("plugin/info", {"name": "no-such-plugin"})
        with pytest.raises(NotFoundError):
            c.call("plugin/ping", {"name": "no-such-plugin"})
        with pytest.raises(NotSupportedError):
            c.call("plugin/install", {"source": "x"})
        project_status = c.call("project/status")
        assert project_status["task_count"] == 2
        assert project_status["repo_scope"] == project.paths.scope
        metrics = c.call("daemon/metrics")
        assert metrics["counters"]["workflow_runs_total{status=completed}"] == 1
        assert metrics["gauges"]["daemon_uptime_seconds"] > 0
        with pytest.raises(NotSupportedError):
            c.call("daemon/restart")
        logs = list(c.stream("daemon/logs", {"follow": False}, idle_timeout=2))
        assert logs[-1] == ("subscription/closed", "completed")
        assert any(
            "daemon_startup" in data["message"] for name, data in logs if name == "daemon/log"
        )


def test_bad_frames_unknown_methods_and_oversized_frames_leave_the_connection_usable(
    project: Project,
) -> None:
    with running_daemon(project), project.client() as other:
        sock = raw_socket(project)
        buf = bytearray()
        sock.sendall(b"this is not json\n")
        reply = read_json_line(sock, buf)
        assert reply["error"]["code"] == -32700
        sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"no/such"}\n')
        reply = read_json_line(sock, buf)
        assert (reply["id"], reply["error"]["code"]) == (1, -32601)
        assert reply["error"]["data"]["category"] == "not_supported"
        sock.sendall(b'{"jsonrpc":"1.0","id":2,"method":"daemon/status"}\n')
        assert read_json_line(sock, buf)["error"]["code"] == -32600
        sock.sendall(b'{"jsonrpc":"2.0","id":3,"method":"queue/hold","params":{"id":""}}\n')
        bad_params = read_json_line(sock, buf)
        assert bad_params["error"]["data"]["category"] == "invalid_request"
        big = (
            b'{"jsonrpc":"2.0","id":4,"method":"daemon/nudge","params":{"reason":"'
            + b"x" * (2 * 1024 * 1024)
            + b'"}}\n'
        )
        sock.sendall(big)
        reply = read_json_line(sock, buf)
        assert reply["error"]["code"] == -32700  # dropped while it streamed in, never buffered
        sock.sendall(b'{"jsonrpc":"2.0","id":5,"method":"daemon/status"}\n')
        assert read_json_line(sock, buf)["result"]["running"] is True  # same connection still works
        assert other.call("daemon/status")["running"] is True  # and so does everyone else
        sock.close()


def test_one_connection_multiplexes_streams_and_calls_and_cancels_a_stream(
    project: Project,
) -> None:
    with running_daemon(project, "--interval-secs", "30"), project.client() as c:
        events_id = c.request("daemon/events")
        subjects_id = c.request("subject/watch", {"kind": "task"})
        assert c.wait_reply(events_id)["result"] == {"watching": True}
        assert c.wait_reply(subjects_id)["result"] == {"watching": True}
        created = c.call("subject/create", {"kind": "task", "title": "watched"})  # a call between
        changed = wait_until(lambda: _next_for(c, subjects_id), 30, "subject/changed")
        assert changed["method"] == "subject/changed"
        assert changed["params"]["data"]["id"] == created["id"]
        assert changed["params"]["data"]["change_kind"] == "created"
        # A change made elsewhere (here: in this process, as the CLI would) is seen too.
        project.hub.tasks.set_status(created["id"], "ready")
        other = wait_until(lambda: _next_for(c, subjects_id), 30, "an outside change")
        assert other["params"]["data"]["change_kind"] == "status-changed"
        assert other["params"]["data"]["subject"]["status"] == "ready"
        c.call("daemon/nudge", {"reason": "x"})
        c.cancel(subjects_id)
        closed = wait_until(lambda: _next_for(c, subjects_id), 30, "subscription/closed")
        assert closed == {
            "jsonrpc": "2.0",
            "method": "subscription/closed",
            "params": {"id": subjects_id, "reason": "cancelled"},
        }
        assert c.call("daemon/status")["running"] is True


def _run_status(client: ControlClient, workflow_id: str) -> str | None:
    try:
        return str(client.call("workflow/get", {"id": workflow_id})["status"])
    except NotFoundError:
        return None  # the runner has not recorded the run yet


def _next_for(client: ControlClient, ident: int) -> dict[str, Any] | None:
    message = client.read_message(20)
    if message is not None and (message.get("params") or {}).get("id") == ident:
        return message
    return None


def test_a_client_that_never_reads_is_cut_off_without_disturbing_others(project: Project) -> None:
    env = {"ANIMUS_SUBSCRIBER_BUFFER_ITEMS": "300", "ANIMUS_CONTROL_OUTGOING_FRAMES": "64"}
    with running_daemon(project, "--interval-secs", "30", env=env), project.client() as healthy:
        lazy = raw_socket(project)
        lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        lazy.sendall(b'{"jsonrpc":"2.0","id":1,"method":"daemon/events"}\n')
        received: list[str] = []
        ready = threading.Event()

        def read_along() -> None:  # a subscriber that does keep up
            with project.client(30) as reader:
                ident = reader.request("daemon/events")
                reader.wait_reply(ident)
                ready.set()
                while len(received) < 3000:
                    message = reader.read_message(30)
                    if message is None:
                        return
                    received.append(str(message.get("method")))
                    if message.get("method") == "subscription/closed":
                        return

        thread = threading.Thread(target=read_along, daemon=True)
        thread.start()
        assert ready.wait(10)
        # Flood the event stream (each pause/resume is an event) far past every buffer.
        with project.client() as flooder:
            for _ in range(1500):
                flooder.call("daemon/pause")
                flooder.call("daemon/resume")
            assert flooder.call("daemon/status")["running"] is True  # never blocked
        thread.join(60)
        assert received.count("daemon/event") == 3000
        assert "subscription/closed" not in received
        assert healthy.call("daemon/status")["running"] is True
        # The lazy client now reads: its stream ended as lagged (kept room for that notice).
        lazy.settimeout(5)
        data = b""
        try:
            while b"buffer_full_lagged" not in data:
                chunk = lazy.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        assert b"buffer_full_lagged" in data
        lazy.close()


def test_wrong_permissions_and_foreign_socket_files_refuse_start(project: Project) -> None:
    os.chmod(project.paths.root, 0o777)  # noqa: S103 - the misconfiguration under test
    daemon = DaemonProcess(project).start(wait=False)
    assert daemon.proc is not None
    assert daemon.proc.wait(30) != 0
    assert "writable by group or others" in daemon.output()
    os.chmod(project.paths.root, 0o700)
    project.paths.control_sock.write_text("not a socket")
    daemon = DaemonProcess(project).start(wait=False)
    assert daemon.proc is not None
    assert daemon.proc.wait(30) != 0
    assert "is not a socket" in daemon.output()
    assert project.paths.control_sock.read_text() == "not a socket"  # left untouched
    project.paths.control_sock.unlink()


def test_a_peer_with_another_uid_is_refused(project: Project) -> None:
    from animus_daemon_runtime.daemon import Daemon, DaemonOptions

    async def scenario() -> None:
        daemon = Daemon(
            project.root,
            DaemonOptions(env=project.env, allowed_uids=frozenset({os.getuid() + 1})),
        )
        task = asyncio.create_task(daemon.run())
        for _ in range(500):
            if project.paths.control_sock.exists():
                break
            await asyncio.sleep(0.01)

        def connect() -> dict[str, Any]:
            with ControlClient(project.paths.control_sock, timeout=5) as c:
                msg = c.read_message(20)
                assert msg is not None
                return msg

        refused = await asyncio.to_thread(connect)
        assert refused["error"]["data"]["category"] == "permission_denied"
        assert daemon.control.refused == 1
        daemon.request_stop()
        await asyncio.wait_for(task, 30)

    asyncio.run(scenario())
    with pytest.raises(PermissionDeniedError):
        raise PermissionDeniedError("x")  # the class the client rebuilds from that category


def test_a_broken_pm_config_keeps_the_last_good_one_and_says_so(project: Project) -> None:
    with running_daemon(project, "--interval-secs", "30"), project.client() as c:
        project.paths.pm_config.write_text('{"pool_size": 3}')
        c.call("daemon/nudge", {"reason": "config"})
        wait_until(lambda: c.call("daemon/status")["pool_size"] == 3, 30, "pool 3")
        project.paths.pm_config.write_text("{not json")
        c.call("daemon/nudge", {"reason": "config"})
        health = wait_until(
            lambda: (h := c.call("daemon/health"))["status"] == "degraded" and h, 30, "degraded"
        )
        assert any("pm-config.json" in r for r in health["degraded_reasons"])
        assert c.call("daemon/status")["pool_size"] == 3  # the last good config stays in force
        project.paths.pm_config.write_text('{"pool_size": 2}')
        c.call("daemon/nudge", {"reason": "config"})
        wait_until(lambda: c.call("daemon/status")["pool_size"] == 2, 30, "pool 2")
        assert not any("pm-config.json" in r for r in c.call("daemon/health")["degraded_reasons"])
