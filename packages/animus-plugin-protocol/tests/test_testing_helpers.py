"""animus_plugin_protocol.testing drives a real plugin process like a host would."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from animus_plugin_protocol.testing import PluginClient, children_of, group_members, write_fake_cli

SAMPLE = Path(__file__).parent / "scripts" / "sample_plugin.py"


@pytest.fixture
def client(tmp_path: Path) -> PluginClient:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    c = PluginClient([sys.executable, str(SAMPLE)], env=env, cwd=tmp_path)
    yield c  # type: ignore[misc]
    c.close()


def test_ping_and_notifications(client: PluginClient) -> None:
    assert client.call("$/ping", {}) == {"jsonrpc": "2.0", "id": 2, "result": {}}
    answer = client.call("sample/notify", {"count": 3})
    assert "result" in answer, answer
    assert [n["n"] for n in client.notes_of("sample/progress")] == [0, 1, 2]


def test_out_of_order_answers_are_kept(client: PluginClient) -> None:
    slow = client.start("sample/sleep", {"secs": 0.5})
    fast = client.start("sample/echo", {"x": 1})
    # Waiting for the slow one first still finds the fast one afterwards.
    assert "result" in client.wait(slow, timeout=30)
    assert client.wait(fast, timeout=30)["result"]


def test_process_scans_and_fake_cli(tmp_path: Path) -> None:
    script = write_fake_cli(tmp_path / "cli", "import time\ntime.sleep(30)\n")
    import subprocess

    proc = subprocess.Popen([str(script)], start_new_session=True)
    try:
        assert proc.pid in group_members(proc.pid)
        assert proc.pid in children_of(os.getpid())
    finally:
        proc.kill()
        proc.wait()
    assert proc.pid not in group_members(proc.pid)


def test_eof_is_reported(client: PluginClient) -> None:
    rid = client.start("sample/echo", {})
    assert "result" in client.wait(rid)
    assert client.proc.stdin is not None
    client.proc.stdin.close()
    with pytest.raises(EOFError):
        client.wait(client.next_id + 1, timeout=10)
