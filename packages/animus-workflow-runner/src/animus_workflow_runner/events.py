"""Workflow events: ``runs/<run-id>/workflow-events.jsonl`` (durable) plus an optional live
Unix socket.

Every event is one JSON line ``{seq, ts, workflow_id, kind, phase_id?, payload}`` appended
and flushed to the file, which is the source of truth. When an events socket is given the
same line is also sent there: the connection is made lazily, every socket operation has a
short timeout, and the first error drops the socket for good, so a dead or slow daemon never
slows or breaks a run.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from animus_protocol.timeutil import utc_now_str

__all__ = ["EVENTS_FILE", "WorkflowEventSink", "read_events"]

EVENTS_FILE = "workflow-events.jsonl"
_SOCKET_TIMEOUT = 0.05


def _last_seq(path: Path) -> int:
    """The seq of the file's last complete line (0 for a new file)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 65536))
            tail = fh.read().splitlines()
    except FileNotFoundError:
        return 0
    for raw in reversed(tail):
        try:
            return int(json.loads(raw)["seq"])
        except (ValueError, KeyError, TypeError):
            continue
    return 0


def _ends_torn(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() == 0:
                return False
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) != b"\n"
    except OSError:
        return False


class WorkflowEventSink:
    """Appends a run's events; ``listener`` (e.g. the terminal's progress lines) sees each."""

    def __init__(
        self,
        run_dir: Path,
        workflow_id: str,
        *,
        socket_path: str | None = None,
        listener: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / EVENTS_FILE
        self.workflow_id = workflow_id
        self.seq = _last_seq(self.path)
        self._fh: TextIO | None = self.path.open("a", encoding="utf-8")
        if _ends_torn(self.path):
            # A runner killed mid-write left half a line: end it, so the next event
            # starts on its own line instead of being glued to (and lost with) the torn one.
            self._fh.write("\n")
            self._fh.flush()
        self._socket_path = socket_path
        self._sock: socket.socket | None = None
        self._socket_dead = socket_path is None
        self.listener = listener

    def emit(
        self, kind: str, payload: dict[str, Any] | None = None, phase_id: str | None = None
    ) -> dict[str, Any]:
        self.seq += 1
        record: dict[str, Any] = {
            "seq": self.seq,
            "ts": utc_now_str(),
            "workflow_id": self.workflow_id,
            "kind": kind,
        }
        if phase_id is not None:
            record["phase_id"] = phase_id
        record["payload"] = payload or {}
        line = json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":")) + "\n"
        if self._fh is not None:
            self._fh.write(line)
            self._fh.flush()
        self._send(line.encode("utf-8"))
        if self.listener is not None:
            with contextlib.suppress(Exception):
                self.listener(record)
        return record

    def _send(self, data: bytes) -> None:
        if self._socket_dead:
            return
        try:
            if self._sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(_SOCKET_TIMEOUT)
                sock.connect(str(self._socket_path))
                self._sock = sock
            self._sock.sendall(data)
        except OSError:
            self._drop_socket()

    def _drop_socket(self) -> None:
        self._socket_dead = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = None

    def close(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.flush()
                os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
        self._drop_socket()


def read_events(run_dir: Path, phase_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every event of a run in order (lines that do not parse are skipped)."""
    path = run_dir / EVENTS_FILE
    try:
        fh = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    with fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and (
                phase_id is None or record.get("phase_id") == phase_id
            ):
                yield record
