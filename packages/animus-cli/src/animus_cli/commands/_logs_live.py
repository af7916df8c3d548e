"""Live items from a running daemon: ``workflow/events`` and ``daemon/logs`` multiplexed on
one control connection.

``ControlClient.stream`` follows one subscription; here both are opened with plain
requests and their notifications are told apart by ``params.id``. When a subscription
closes or the daemon goes away, its source is marked dead and the caller reads that
source's files again (the runner's event files are the source of truth, and the caller polls
them even meanwhile, for runs the daemon does not supervise; the :class:`Deduper` keeps one
copy of each event).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from animus_cli.commands._logs_entries import DaemonLineParser, LogQuery, run_entry_from_stream
from animus_cli.commands._logs_files import Deduper
from animus_protocol.timeutil import utc_now_str

if TYPE_CHECKING:
    from animus_daemon_runtime.client import ControlClient

__all__ = ["DaemonFeed"]

_DRAIN_WAIT = 0.005  # once one frame arrived, frames already in flight are taken too


class DaemonFeed:
    def __init__(self, client: ControlClient, query: LogQuery, dedupe: Deduper) -> None:
        self.client = client
        self.query = query
        self.dedupe = dedupe
        self.runs_id: Any = None
        self.logs_id: Any = None

    @property
    def runs_live(self) -> bool:
        return self.runs_id is not None

    @property
    def daemon_live(self) -> bool:
        return self.logs_id is not None

    @property
    def active(self) -> bool:
        return self.runs_live or self.daemon_live

    def _subscribe(self, method: str, params: dict[str, Any]) -> Any:
        try:
            ident = self.client.request(method, params)
            reply = self.client.wait_reply(ident)
        except (OSError, ValueError, ConnectionError):
            return None
        return None if "error" in reply else ident

    def subscribe_runs(self) -> None:
        """Before the backlog is read, so no event falls between file and stream."""
        if "runs" in self.query.sources:
            params = {"workflow_id": self.query.workflow_id} if self.query.workflow_id else {}
            self.runs_id = self._subscribe("workflow/events", params)

    def subscribe_logs(self, since: str | None) -> None:
        """The daemon replays its log from ``since`` (dropped as duplicates), then follows."""
        if "daemon" in self.query.sources:
            params: dict[str, Any] = {"follow": True}
            if since:
                params["since"] = since
            self.logs_id = self._subscribe("daemon/logs", params)

    def close(self) -> None:
        self.client.close()

    def read(self, timeout: float) -> list[dict[str, Any]]:
        """Items that arrive within ``timeout`` (returns early once some have arrived)."""
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while self.active:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                message = self.client.read_message(_DRAIN_WAIT if out else remaining)
            except TimeoutError:
                break
            except (OSError, ValueError):
                message = None
            if message is None:  # the daemon went away: back to the files
                self.runs_id = self.logs_id = None
                break
            entry = self._entry(message)
            if entry is not None and self.query.wants(entry) and self.dedupe.fresh(entry):
                out.append(entry)
        return out

    def _entry(self, message: dict[str, Any]) -> dict[str, Any] | None:
        params = message.get("params")
        if not isinstance(params, dict):
            return None
        ident = params.get("id")
        if message.get("method") == "subscription/closed":
            if ident == self.runs_id:
                self.runs_id = None
            elif ident == self.logs_id:
                self.logs_id = None
            return None
        data = params.get("data")
        if ident is not None and ident == self.runs_id:
            return run_entry_from_stream(data, utc_now_str())
        if ident is not None and ident == self.logs_id and isinstance(data, dict):
            return _daemon_entry(data)
        return None


def _daemon_entry(data: dict[str, Any]) -> dict[str, Any] | None:
    """A ``daemon/log`` item, with its time in canonical form (the log writes milliseconds)."""
    message = data.get("message")
    if not isinstance(message, str):
        return None
    parser = DaemonLineParser(utc_now_str())
    offset = str(data.get("id", "")).removeprefix("log-")
    line = f"{data.get('ts')} {str(data.get('level', 'info')).upper()} {data.get('target')}: "
    return parser.entry(line + message, int(offset) if offset.isdigit() else 0)
