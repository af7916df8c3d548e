"""The run event log: every normalized session event as one line of ``events.jsonl``.

A line is ``{ts, run_id, phase_id, attempt, seq, session_id?, type, payload}``; ``type``
follows the reference's ``AgentRunEvent`` names (``started``, ``output_chunk``,
``thinking``, ``tool_call``, ``tool_result``, ``metadata``, ``error``, ``artifact``,
``finished``) plus ``interaction_requested`` and the runner's ``decision``. Lines go
through :class:`animus_store.EventLog`, so secrets are redacted before they reach the disk
or the live callback.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from animus_protocol.timeutil import utc_now_str
from animus_session_host import SessionEvent
from animus_store.eventlog import EventLog

__all__ = ["RunEventCallback", "RunEventWriter", "event_type_and_payload"]

log = logging.getLogger("animus.agent_runner")

RunEventCallback = Callable[[dict[str, Any]], Awaitable[None] | None]
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def event_type_and_payload(event: SessionEvent) -> tuple[str, dict[str, Any]]:
    """The run-log type and payload of one provider notification."""
    params = {k: v for k, v in event.params.items() if k not in ("session_id", "kind")}
    kind = event.kind
    if event.method == "agent/interactionRequested":
        # There ``kind`` names the interaction (approval, question), not the notification.
        return "interaction_requested", {**params, "kind": event.params.get("kind")}
    if kind == "output":
        final = bool(params.get("final", params.get("is_final", False)))
        return "output_chunk", {"stream_type": "stdout", "text": event.text, "final": final}
    if kind == "thinking":
        return "thinking", {"text": event.text}
    if kind == "toolCall":
        return "tool_call", {
            "name": params.get("name"),
            "arguments": params.get("arguments"),
            "server": params.get("server"),
        }
    if kind == "toolResult":
        return "tool_result", {
            "name": params.get("name"),
            "output": params.get("output"),
            "success": bool(params.get("success", True)),
        }
    if kind == "error":
        return "error", {
            "message": str(params.get("message", "")),
            "recoverable": bool(params.get("recoverable", False)),
        }
    return _CAMEL.sub("_", kind).lower(), params


class RunEventWriter:
    """Appends one phase attempt's events in order and forwards each to a callback."""

    def __init__(
        self,
        path: Path,
        *,
        run_id: str,
        phase_id: str,
        attempt: int,
        callback: RunEventCallback | None = None,
    ) -> None:
        self.log = EventLog(path)
        self.run_id = run_id
        self.phase_id = phase_id
        self.attempt = attempt
        self.callback = callback
        self.session_id: str | None = None
        self.seq = 0

    @property
    def path(self) -> Path:
        return self.log.path

    async def emit(self, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Write one event (redacted) and hand the written record to the callback."""
        self.seq += 1
        record: dict[str, Any] = {
            "ts": utc_now_str(),
            "run_id": self.run_id,
            "phase_id": self.phase_id,
            "attempt": self.attempt,
            "seq": self.seq,
        }
        if self.session_id:
            record["session_id"] = self.session_id
        record["type"] = event_type
        record["payload"] = payload
        written = self.log.append(record)
        if self.callback is not None:
            try:
                outcome = self.callback(written)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # a broken subscriber must not break the phase
                log.exception("run event callback failed")
        return written
