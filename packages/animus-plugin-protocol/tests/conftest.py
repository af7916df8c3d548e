"""Shared test support: drive a plugin script as a real subprocess, frame by frame."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol import FrameDecoder, encode_frame

SCRIPTS = Path(__file__).parent / "scripts"
WAIT_SECS = 15.0


class PluginProcess:
    """A plugin subprocess: send frames to stdin, read every stdout frame in order.

    Every stdout line is also kept raw so tests can assert that nothing but JSON frames
    ever appeared there.
    """

    def __init__(self, script: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.frames: queue.Queue[Any] = queue.Queue()
        self.raw_lines: list[bytes] = []
        self.stderr_lines: list[str] = []
        self._out = threading.Thread(target=self._read_stdout, daemon=True)
        self._err = threading.Thread(target=self._read_stderr, daemon=True)
        self._out.start()
        self._err.start()
        self.pending: list[Any] = []

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        decoder = FrameDecoder()
        for line in self.proc.stdout:
            self.raw_lines.append(line)
            for item in decoder.feed(line):
                self.frames.put(item)
        self.frames.put(EOFError("stdout closed"))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.decode("utf-8", errors="replace"))

    def send(self, message: Any) -> None:
        self.send_raw(encode_frame(message))

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def next_frame(self, timeout: float = WAIT_SECS) -> Any:
        if self.pending:
            return self.pending.pop(0)
        item = self.frames.get(timeout=timeout)
        if isinstance(item, EOFError):
            raise item
        return item

    def wait_response(self, request_id: int | str, timeout: float = WAIT_SECS) -> dict[str, Any]:
        """The response with this id; frames seen before it stay available, in order."""
        skipped: list[Any] = []
        for _ in range(100_000):
            frame = self.next_frame(timeout)
            if isinstance(frame, dict) and frame.get("id") == request_id and "method" not in frame:
                self.pending[:0] = skipped
                return frame
            skipped.append(frame)
        raise AssertionError("no response")

    def request(
        self, request_id: int | str, method: str, params: Any = None, timeout: float = WAIT_SECS
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.wait_response(request_id, timeout)

    def initialize(self, version: str = "1.0.0") -> dict[str, Any]:
        return self.request(
            1,
            "initialize",
            {"protocol_version": version, "host_info": {"name": "pytest", "version": "0"}},
        )

    def wait_exit(self, timeout: float = WAIT_SECS) -> int:
        """Wait for the process, then for both readers, so all output has been collected."""
        code = self.proc.wait(timeout=timeout)
        self._out.join(timeout)
        self._err.join(timeout)
        return code

    def assert_stdout_only_frames(self) -> None:
        for line in self.raw_lines:
            if line.strip():
                json.loads(line)  # raises if anything but a frame reached stdout

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=WAIT_SECS)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def spawn_plugin() -> Iterator[Any]:
    started: list[PluginProcess] = []

    def spawn(script: str, *args: str, env: dict[str, str] | None = None) -> PluginProcess:
        process = PluginProcess(SCRIPTS / script, *args, env=env)
        started.append(process)
        return process

    yield spawn
    for process in started:
        process.kill()
