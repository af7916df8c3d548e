"""The files behind ``animus logs tail``: read their backlog, then poll them for new lines.

Sources: ``daemon/daemon.log``, ``logs/plugins/<plugin>.log`` (plugin stderr) and
``runs/<id>/workflow-events.jsonl`` (every runner event). Each file is followed by a
:class:`FileTail` that remembers its offset and inode, yields complete lines only, and starts
over when the file is replaced (rotation) or shrinks (truncation). New plugin logs and new
runs' event files are picked up as they appear.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from animus_cli.commands._logs_entries import (
    DaemonLineParser,
    LogQuery,
    plugin_entry,
    run_entry,
)
from animus_protocol.paths import ScopePaths
from animus_protocol.timeutil import format_rfc3339, utc_now_str

__all__ = ["Deduper", "FileFeed", "FileTail"]

EVENTS_FILE = "workflow-events.jsonl"
_BACKLOG_BYTES = 16 * 1024 * 1024  # the backlog reads at most the last 16 MiB of a file
_POLL_BYTES = 4 * 1024 * 1024  # one poll reads at most 4 MiB of a file (the rest next poll)
_RESCAN_SECS = 1.0


def _mtime_ts(st: os.stat_result) -> str:
    return format_rfc3339(datetime.fromtimestamp(st.st_mtime, UTC))


class FileTail:
    """New complete lines of one file since the last read, with their end offsets."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.inode: int | None = None
        self.restarted = False  # set when the last read started over (rotated/truncated)

    def read(self, *, max_bytes: int = _POLL_BYTES) -> list[tuple[int, str]]:
        self.restarted = False
        try:
            st = self.path.stat()
        except OSError:
            return []
        if (self.inode is not None and st.st_ino != self.inode) or st.st_size < self.offset:
            self.offset = 0
            self.restarted = True
        self.inode = st.st_ino
        if st.st_size == self.offset:
            return []
        try:
            with self.path.open("rb") as fh:
                if self.offset > 0:
                    # The byte before our offset ends the last line we read; anything else
                    # means the file was truncated and rewritten past our offset meanwhile.
                    fh.seek(self.offset - 1)
                    if fh.read(1) != b"\n":
                        self.offset = 0
                        self.restarted = True
                fh.seek(self.offset)
                data = fh.read(max_bytes)
        except OSError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) >= max_bytes:  # one over-long line: skip it rather than stall
                self.offset += len(data)
            return []
        lines: list[tuple[int, str]] = []
        pos = self.offset
        for raw in data[: end + 1].splitlines(keepends=True):
            pos += len(raw)
            lines.append((pos, raw.decode("utf-8", errors="replace").rstrip("\r\n")))
        self.offset += end + 1
        return lines

    def skip_to_end(self) -> None:
        try:
            st = self.path.stat()
        except OSError:
            return
        self.inode, self.offset = st.st_ino, st.st_size

    def read_backlog(self) -> tuple[list[tuple[int, str]], str | None]:
        """The file's last lines (up to 16 MiB) and its mtime; the tail then sits at its end."""
        try:
            st = self.path.stat()
        except OSError:
            return [], None
        start = max(0, st.st_size - _BACKLOG_BYTES)
        self.offset, self.inode = start, st.st_ino
        lines = self.read(max_bytes=st.st_size - start + 1)
        if start > 0 and lines:
            lines = lines[1:]  # the first line was cut by the window
        return lines, _mtime_ts(st)


@dataclass
class Deduper:
    """Drops items already printed when a file and the daemon's stream both carry them."""

    run_seq: dict[str, int] = field(default_factory=dict)
    daemon_offset: int = 0
    daemon_ts: str = ""

    def fresh(self, entry: dict[str, Any]) -> bool:
        source = entry["source"]
        if source == "workflow":
            fields = entry.get("fields") or {}
            seq, wf = fields.get("seq"), fields.get("workflow_id")
            if isinstance(seq, int) and isinstance(wf, str):
                if seq <= self.run_seq.get(wf, 0):
                    return False
                self.run_seq[wf] = seq
            return True
        if source == "daemon":
            offset = int(str(entry["id"]).removeprefix("log-") or 0)
            # Same offset and no newer time: a line we have; a newer time after a smaller
            # offset: the log was truncated or replaced, so offsets started over.
            if offset <= self.daemon_offset and entry["ts"] <= self.daemon_ts:
                return False
            self.daemon_offset, self.daemon_ts = offset, max(self.daemon_ts, entry["ts"])
        return True


class FileFeed:
    """The backlog of every selected file, then new lines by polling."""

    def __init__(self, paths: ScopePaths, query: LogQuery, dedupe: Deduper) -> None:
        self.paths = paths
        self.query = query
        self.dedupe = dedupe
        self.daemon_tail = FileTail(paths.daemon_log)
        self.daemon_parser = DaemonLineParser(utc_now_str())
        self.plugin_tails: dict[str, FileTail] = {}
        self.run_tails: dict[str, FileTail] = {}
        self._dir_scans: dict[Path, tuple[int, float]] = {}

    # -- which files -----------------------------------------------------------------------------

    @property
    def plugin_dir(self) -> Path:
        return self.paths.logs_dir / "plugins"

    def _discover(self, dir_: Path) -> bool:
        """True when ``dir_`` may hold new files: its mtime changed, or a second passed (a
        file created within the same coarse mtime tick as the last look leaves it unchanged)."""
        try:
            mtime = dir_.stat().st_mtime_ns
        except OSError:
            return False
        now = time.monotonic()
        last_mtime, last_scan = self._dir_scans.get(dir_, (None, 0.0))
        if mtime == last_mtime and now - last_scan < _RESCAN_SECS:
            return False
        self._dir_scans[dir_] = (mtime, now)
        return True

    def known_plugins(self) -> list[str]:
        try:
            return sorted(p.stem for p in self.plugin_dir.glob("*.log"))
        except OSError:
            return []

    def _new_plugin_tails(self) -> list[tuple[str, FileTail]]:
        if "plugins" not in self.query.sources or not self._discover(self.plugin_dir):
            return []
        found = []
        for name in self.known_plugins():
            if self.query.plugins and name not in self.query.plugins:
                continue
            if name not in self.plugin_tails:
                tail = FileTail(self.plugin_dir / f"{name}.log")
                self.plugin_tails[name] = tail
                found.append((name, tail))
        return found

    def _new_run_tails(self) -> list[tuple[str, FileTail]]:
        if "runs" not in self.query.sources or not self._discover(self.paths.runs_dir):
            return []
        wanted = self.query.workflow_id
        try:
            names = [wanted] if wanted else os.listdir(self.paths.runs_dir)
        except OSError:
            return []
        found = []
        for name in names:
            if name not in self.run_tails and (self.paths.runs_dir / name).is_dir():
                tail = FileTail(self.paths.runs_dir / name / EVENTS_FILE)
                self.run_tails[name] = tail
                found.append((name, tail))
        return found

    # -- backlog ---------------------------------------------------------------------------------

    def backlog(self) -> list[dict[str, Any]]:
        """The last ``limit`` wanted entries of every selected file, oldest first."""
        entries: list[dict[str, Any]] = []
        if "daemon" in self.query.sources:
            lines, mtime = self.daemon_tail.read_backlog()
            self.daemon_parser = DaemonLineParser(mtime or utc_now_str())
            entries += self._daemon_entries(lines)
        for name, tail in self._new_plugin_tails():
            lines, mtime = tail.read_backlog()
            entries += self._plugin_entries(name, lines, mtime or utc_now_str())
        entries += self._runs_backlog(self._new_run_tails())
        entries.sort(key=lambda e: e["ts"])  # stable: file order within the same instant
        return [e for e in entries if self.dedupe.fresh(e)][-self.query.limit :]

    def _runs_backlog(self, tails: list[tuple[str, FileTail]]) -> list[dict[str, Any]]:
        # Newest files first; once `limit` entries are in hand, a file last written before
        # the oldest of them cannot contribute, so hundreds of old runs cost one stat each.
        def mtime(item: tuple[str, FileTail]) -> float:
            try:
                return item[1].path.stat().st_mtime
            except OSError:
                return 0.0

        out: list[dict[str, Any]] = []
        limit = self.query.limit
        for name, tail in sorted(tails, key=mtime, reverse=True):
            floor = out[0]["ts"] if len(out) >= limit else None
            stamp = format_rfc3339(datetime.fromtimestamp(mtime((name, tail)), UTC))
            if (floor is not None and stamp < floor) or (
                self.query.since is not None and stamp < self.query.since
            ):
                tail.skip_to_end()
                continue
            lines, file_mtime = tail.read_backlog()
            out += self._run_entries(name, lines, file_mtime or utc_now_str())
            # Only the newest `limit` can be printed (each run's newest, so its highest seq,
            # stays among them for the deduper).
            out = sorted(out, key=lambda e: e["ts"])[-limit:]
        return out

    # -- polling ---------------------------------------------------------------------------------

    def poll(self, *, daemon: bool = True) -> list[dict[str, Any]]:
        """Entries written since the last look, oldest first (``daemon`` False while the
        daemon's ``daemon/logs`` stream carries its log)."""
        now = utc_now_str()
        entries: list[dict[str, Any]] = []
        if daemon and "daemon" in self.query.sources:
            lines = self.daemon_tail.read()
            if self.daemon_tail.restarted:  # offsets start over in a rotated/truncated log
                self.dedupe.daemon_offset, self.dedupe.daemon_ts = 0, ""
            entries += self._daemon_entries(lines)
        self._new_plugin_tails()
        for name, tail in self.plugin_tails.items():
            entries += self._plugin_entries(name, tail.read(), now)
        self._new_run_tails()
        for name, tail in self.run_tails.items():
            entries += self._run_entries(name, tail.read(), now)
        entries.sort(key=lambda e: e["ts"])
        return [e for e in entries if self.dedupe.fresh(e)]

    # -- lines into entries ----------------------------------------------------------------------

    def _daemon_entries(self, lines: list[tuple[int, str]]) -> list[dict[str, Any]]:
        out = []
        for end, line in lines:
            if line.strip():
                entry = self.daemon_parser.entry(line, end)
                if self.query.wants(entry):
                    out.append(entry)
        return out

    def _plugin_entries(
        self, name: str, lines: list[tuple[int, str]], fallback: str
    ) -> list[dict[str, Any]]:
        out = []
        for end, line in lines:
            if line.strip():
                entry = plugin_entry(name, line, end, fallback)
                if self.query.wants(entry):
                    out.append(entry)
        return out

    def _run_entries(
        self, workflow_id: str, lines: list[tuple[int, str]], fallback: str
    ) -> list[dict[str, Any]]:
        out = []
        for _end, line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a torn or corrupt line: skipped, never fatal
            if not isinstance(event, dict):
                continue
            entry = run_entry(workflow_id, event, fallback)
            if entry is not None and self.query.wants(entry):
                out.append(entry)
        return out
