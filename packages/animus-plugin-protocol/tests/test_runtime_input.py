"""The serve loop's input paths: the ``$/ping`` fast path, polled pipes, the file fallback,
and bounded work under a flood of requests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from animus_plugin_protocol import FrameDecoder, encode_frame

SAMPLE = Path(__file__).parent / "scripts" / "sample_plugin.py"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocol_version": "1.1.0", "host_info": {"name": "pytest", "version": "0"}},
}


def test_ping_fast_path_echoes_every_id_form_exactly(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    for ident in (7, -3, 2**60, "p-1", 'quote" and \\ and é', ""):
        assert plugin.request(ident, "$/ping") == {"jsonrpc": "2.0", "id": ident, "result": {}}
    plugin.assert_stdout_only_frames()


def test_malformed_pings_take_the_validating_path(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    # A boolean id is not a JSON-RPC id: no fast answer, and the id cannot be echoed either.
    plugin.send({"jsonrpc": "2.0", "id": True, "method": "$/ping"})
    # The wrong protocol tag with a usable id is answered -32600 by the general path.
    plugin.send({"jsonrpc": "1.0", "id": "old", "method": "$/ping"})
    refused = plugin.wait_response("old")
    assert refused["error"]["code"] == -32600
    assert "jsonrpc" in refused["error"]["message"]
    # A ping notification gets no answer; the next request proves the loop is alive.
    plugin.send({"jsonrpc": "2.0", "method": "$/ping"})
    assert plugin.request(2, "$/ping")["result"] == {}
    assert plugin.initialize()["result"]["protocol_version"] == "1.1.0"
    plugin.close_stdin()
    assert plugin.wait_exit() == 0
    assert any("ignored a message" in line for line in plugin.stderr_lines)


def test_a_flood_of_pipelined_requests_is_answered_in_full(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    plugin.initialize()
    count = 20_000  # more than the in-flight bound, so reading pauses and resumes
    batch = b"".join(
        encode_frame(
            {"jsonrpc": "2.0", "id": 10 + i, "method": "sample/echo", "params": {"i": i}}
            if i % 2
            else {"jsonrpc": "2.0", "id": 10 + i, "method": "$/ping"}
        )
        for i in range(count)
    )
    plugin.send_raw(batch)
    seen: set[int] = set()
    for _ in range(count):
        frame = plugin.next_frame()
        assert "error" not in frame, frame
        seen.add(frame["id"])
    assert seen == set(range(10, 10 + count))
    plugin.close_stdin()
    assert plugin.wait_exit() == 0


def test_stdin_from_a_regular_file_uses_the_reader_thread(tmp_path: Path) -> None:
    # epoll cannot poll regular files, so the runtime falls back to its reader thread.
    frames = tmp_path / "input.jsonl"
    frames.write_bytes(
        encode_frame(INIT)
        + encode_frame({"jsonrpc": "2.0", "id": 2, "method": "$/ping"})
        + encode_frame({"jsonrpc": "2.0", "id": 3, "method": "sample/echo", "params": {"a": 1}})
    )
    with frames.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, str(SAMPLE)],
            stdin=stdin,
            capture_output=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    answers = {f["id"]: f for f in FrameDecoder().feed(done.stdout) if isinstance(f, dict)}
    assert answers[1]["result"]["protocol_version"] == "1.1.0"
    assert answers[2] == {"jsonrpc": "2.0", "id": 2, "result": {}}
    assert answers[3]["result"]["params"] == {"a": 1}


def test_a_request_cancelled_in_the_same_chunk_is_still_answered(spawn_plugin: Any) -> None:
    # The handler task is cancelled before its first step: the answer must still be -32002
    # and its id must be free again.
    plugin = spawn_plugin("sample_plugin.py")
    plugin.initialize()
    plugin.send_raw(
        encode_frame({"jsonrpc": "2.0", "id": 5, "method": "sample/sleep", "params": {"secs": 30}})
        + encode_frame({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 5}})
    )
    answer = plugin.wait_response(5)
    assert answer["error"]["code"] == -32002
    again = plugin.request(5, "sample/echo", {"x": 1})
    assert again["result"]["params"] == {"x": 1}
