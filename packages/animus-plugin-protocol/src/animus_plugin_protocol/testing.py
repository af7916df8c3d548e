"""Test helpers for plugin authors: drive a plugin over stdio like a host would.

``PluginClient`` starts a plugin executable, performs ``initialize``/``initialized`` and
offers blocking, bounded request/notification waits (replies that arrive while waiting for
another id are kept, so out-of-order answers work). ``group_members`` / ``children_of`` scan
``/proc`` so tests can assert that a cancelled run left no process of its group behind;
``wait_until`` is the bounded poll every suite of the workspace uses.
Linux-only (``/proc``), stdlib-only.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["PluginClient", "children_of", "group_members", "wait_until", "write_fake_cli"]

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 30.0,
    what: str = "condition",
    interval: float = 0.02,
) -> T:
    """Poll ``predicate`` until it returns something truthy and return that; after
    ``timeout`` seconds raise AssertionError naming ``what`` (a bound on a wait, never a
    timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return out


class PluginClient:
    """A blocking JSON-RPC client over a plugin subprocess's stdio (bounded waits)."""

    def __init__(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: str | os.PathLike[str]
    ) -> None:
        self.proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        self.next_id = 0
        self.notes: list[dict[str, Any]] = []
        self.responses: dict[Any, dict[str, Any]] = {}  # answers that arrived while waiting
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        result = self.call(
            "initialize", {"protocol_version": "1.1.0", "host_info": {"name": "t", "version": "0"}}
        )
        assert "result" in result, result
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def start(self, method: str, params: Any) -> int:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def wait(self, request_id: int, timeout: float = 90.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            if request_id in self.responses:
                return self.responses.pop(request_id)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer to request {request_id} in {timeout}s")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise EOFError("plugin closed stdout")
            message: dict[str, Any] = json.loads(line)
            if "method" in message:
                self.notes.append(message)
            elif message.get("id") == request_id:
                return message
            else:
                self.responses[message.get("id")] = message

    def wait_note(self, method: str, timeout: float = 60.0) -> dict[str, Any]:
        """Wait until a notification of ``method`` arrived (it stays in ``notes``)."""
        deadline = time.monotonic() + timeout
        while True:
            for note in self.notes:
                if note["method"] == method:
                    return note
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {method} notification in {timeout}s")
            try:
                line = self._lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            if line is None:
                raise EOFError("plugin closed stdout")
            message = json.loads(line)
            if "method" in message:
                self.notes.append(message)
            else:
                self.responses[message.get("id")] = message

    def call(self, method: str, params: Any, timeout: float = 90.0) -> dict[str, Any]:
        return self.wait(self.start(method, params), timeout)

    def notes_of(self, method: str) -> list[dict[str, Any]]:
        return [n["params"] for n in self.notes if n["method"] == method]

    def close(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def write_fake_cli(path: Path, body: str) -> Path:
    """An executable Python script standing in for the CLI (for edge cases real CLIs
    never produce on demand)."""
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return path
