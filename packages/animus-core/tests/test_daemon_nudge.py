"""Changes that may make work dispatchable wake a running daemon over its control socket."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from animus_core.hub import ServiceHub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ServiceHub]:
    root = tmp_path / "project"
    root.mkdir()
    with ServiceHub(root, env={"ANIMUS_HOME": str(tmp_path / "home")}) as h:
        h.ensure_ready()
        yield h


def _listener(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    server.settimeout(5)
    return server


def _frames(server: socket.socket) -> list[dict[str, object]]:
    """Every frame sent so far (one connection per nudge)."""
    server.settimeout(0.2)
    out = []
    while True:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            return out
        with conn:
            conn.settimeout(2)
            data = b""
            while chunk := conn.recv(4096):
                data += chunk
        out += [json.loads(line) for line in data.splitlines() if line.strip()]


def test_enqueue_release_and_status_changes_nudge(hub: ServiceHub) -> None:
    server = _listener(hub.paths.control_sock)
    try:
        task = hub.tasks.create(title="t", status="ready")
        hub.queue.enqueue_subject("task", task.id)
        entry = hub.queue.list().entries[0].entry_id
        hub.queue.hold([entry])
        hub.queue.release([entry])
        hub.tasks.set_status(task.id, "in-progress")  # not a wake-up
        hub.tasks.set_status(task.id, "done")
        frames = _frames(server)
    finally:
        server.close()
    assert {f["method"] for f in frames} == {"daemon/nudge"}
    assert all("id" not in f for f in frames)  # notifications: nothing waits on a reply
    reasons = [f["params"]["reason"] for f in frames]  # type: ignore[index]
    assert reasons == ["enqueue", "release", "task-status"]


def test_no_daemon_and_stale_socket_are_harmless(hub: ServiceHub) -> None:
    task = hub.tasks.create(title="t", status="ready")
    assert hub.nudge_daemon("x") is False
    hub.queue.enqueue_subject("task", task.id)
    # A socket file left by a dead daemon: nobody listens, the change still commits.
    server = _listener(hub.paths.control_sock)
    server.close()
    assert hub.paths.control_sock.exists()
    assert hub.nudge_daemon("x") is False
    other = hub.tasks.create(title="u", status="ready")
    hub.queue.enqueue_subject("task", other.id)
    assert hub.queue.stats().pending == 2
