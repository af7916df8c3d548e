"""LogEntry items for ``animus logs tail``: what one line or one runner event becomes.

Every item is a plain dict shaped like the plugin protocol's ``LogEntry``: ``id``, ``ts``
(canonical RFC 3339 UTC, so strings sort in time order), ``level``
(``trace|debug|info|warn|error``), ``source`` (``daemon|plugin|workflow``), ``source_name?``,
``target``, ``message`` and ``fields?``. The ``id`` doubles as the de-duplication key when
the same line reaches us both from a file and from the daemon's stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from animus_protocol.envelope import InvalidInputError
from animus_protocol.timeutil import format_rfc3339, parse_rfc3339, utc_now

__all__ = [
    "LEVELS",
    "DaemonLineParser",
    "LogQuery",
    "entry_to_workflow_event",
    "parse_level",
    "parse_since",
    "plugin_entry",
    "run_entry",
    "run_entry_from_stream",
]

LEVELS = ("trace", "debug", "info", "warn", "error")
_RANK = {name: rank for rank, name in enumerate(LEVELS)}
_ALIASES = {"warning": "warn", "critical": "error", "fatal": "error", "err": "error"}
_DAEMON_LINE = re.compile(r"^(\S+) (TRACE|DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL) (\S+): (.*)$")
_LEADING_TS = re.compile(
    r"^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\]?\s*"
)
_PLUGIN_LEVEL = re.compile(
    r"\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL|FATAL)\b|^(Traceback|panicked)",
    re.IGNORECASE,
)
_CANONICAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
_RELATIVE = re.compile(r"^(\d+)([smhdw])$")
_SINCE_HINT = "expected 1h, 30m, 2d or an RFC 3339 time"
# Runner event kinds by the level they get in the merged feed (substring match on the kind).
_ERROR_MARKS = ("fail", "crash", "error")
_WARN_MARKS = ("rework", "paused", "retry", "blocked", "conflict", "budget_exceeded", "cancel")


def parse_level(value: str | None) -> str | None:
    """The canonical minimum level, or None; an unknown name is invalid input."""
    if value is None:
        return None
    name = value.strip().lower()
    name = _ALIASES.get(name, name)
    if name not in _RANK:
        raise InvalidInputError(
            f"unknown --level {value!r}: expected one of {', '.join(LEVELS)}",
            details={"value": value, "accepted": list(LEVELS)},
        )
    return name


def parse_since(value: str | None, now: datetime | None = None) -> str | None:
    """``1h`` / ``30m`` / ``2d`` (before now) or an RFC 3339 time, as a canonical string."""
    if value is None:
        return None
    text = value.strip()
    relative = _RELATIVE.match(text.lower())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        seconds = amount * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
        return format_rfc3339((now or utc_now()) - timedelta(seconds=seconds))
    if re.match(r"^\d{4}-\d\d-\d\d", text):
        try:
            return format_rfc3339(parse_rfc3339(text))
        except InvalidInputError:
            pass
    raise InvalidInputError(
        f"malformed --since {value!r}: {_SINCE_HINT}",
        details={"value": value},
        hint="e.g. --since 30m or --since 2026-01-31T12:00:00Z",
    )


def canonical_ts(value: Any) -> str | None:
    """Any RFC 3339 string as the canonical form (None when it is not one)."""
    if not isinstance(value, str):
        return None
    if _CANONICAL.match(value):
        return value
    try:
        return format_rfc3339(parse_rfc3339(value))
    except InvalidInputError:
        return None


@dataclass
class LogQuery:
    """What the reader wants: sources, filters, and how much backlog."""

    sources: frozenset[str]  # subset of {"daemon", "plugins", "runs"}
    plugins: frozenset[str] = frozenset()
    workflow_id: str | None = None
    min_level: str | None = None
    since: str | None = None
    limit: int = 100
    notes: list[str] = field(default_factory=list)

    def wants(self, entry: dict[str, Any]) -> bool:
        if self.min_level is not None and _RANK.get(entry["level"], 2) < _RANK[self.min_level]:
            return False
        return self.since is None or entry["ts"] >= self.since


class DaemonLineParser:
    """``<ts> <LEVEL> <logger>: <message>`` lines of ``daemon/daemon.log``.

    A line that does not match (a traceback's continuation) belongs to the record before
    it: it keeps that record's time, level and logger, so it sorts right after it.
    """

    def __init__(self, fallback_ts: str) -> None:
        self.last: tuple[str, str, str] = (fallback_ts, "info", "daemon")

    def entry(self, line: str, end_offset: int) -> dict[str, Any]:
        match = _DAEMON_LINE.match(line)
        ts = canonical_ts(match.group(1)) if match else None
        if match and ts is not None:
            level = match.group(2)
            level = {"WARNING": "warn", "CRITICAL": "error"}.get(level, level.lower())
            self.last = (ts, level, match.group(3))
            message = match.group(4)
        else:
            message = line
        ts, level, target = self.last
        # The daemon's own daemon/logs stream names each line by its end offset: same id here.
        return {
            "id": f"log-{end_offset}",
            "ts": ts,
            "level": level,
            "source": "daemon",
            "target": target,
            "message": message,
        }


def plugin_entry(plugin: str, line: str, end_offset: int, fallback_ts: str) -> dict[str, Any]:
    """A plugin stderr line: its own leading timestamp if it has one, else ``fallback_ts``."""
    ts = fallback_ts
    message = line
    stamp = _LEADING_TS.match(line)
    if stamp:
        parsed = canonical_ts(stamp.group(1).replace(" ", "T"))
        if parsed is not None:
            ts = parsed
    level = "info"
    guess = _PLUGIN_LEVEL.search(line[:200])
    if guess:
        word = (guess.group(1) or "error").lower()
        level = _ALIASES.get(word, word)
    return {
        "id": f"plugin:{plugin}:{end_offset}",
        "ts": ts,
        "level": level,
        "source": "plugin",
        "source_name": plugin,
        "target": f"plugin:{plugin}",
        "message": message,
    }


def _run_level(kind: str, payload: dict[str, Any]) -> str:
    status = str(payload.get("status") or payload.get("verdict") or "").lower()
    if any(mark in kind for mark in _ERROR_MARKS) or status in ("failed", "error", "crashed"):
        return "error"
    if any(mark in kind for mark in _WARN_MARKS) or status in ("rework", "paused"):
        return "warn"
    return "info"


def run_entry(workflow_id: str, event: dict[str, Any], fallback_ts: str) -> dict[str, Any] | None:
    """One line of ``runs/<id>/workflow-events.jsonl`` (None when it is not an event)."""
    kind = event.get("kind")
    if not isinstance(kind, str) or not kind:
        return None
    payload = event.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    phase = event.get("phase_id") or payload.get("phase_id")
    seq = event.get("seq")
    words: Iterable[Any] = (
        kind,
        phase,
        payload.get("status") or payload.get("verdict") or payload.get("reason"),
    )
    fields: dict[str, Any] = {"workflow_id": workflow_id, "kind": kind, "seq": seq}
    if phase:
        fields["phase_id"] = phase
    fields["payload"] = {k: v for k, v in payload.items() if k not in ("seq", "phase_id")}
    return {
        "id": f"run:{workflow_id}:{seq if isinstance(seq, int) else kind}",
        "ts": canonical_ts(event.get("ts")) or fallback_ts,
        "level": _run_level(kind, payload),
        "source": "workflow",
        "source_name": workflow_id,
        "target": f"run:{workflow_id}",
        "message": " ".join(str(w) for w in words if w),
        "fields": fields,
    }


def run_entry_from_stream(item: Any, fallback_ts: str) -> dict[str, Any] | None:
    """A ``workflow/event`` stream item (``{workflow_id, kind, payload, occurred_at}``)."""
    if not isinstance(item, dict) or not isinstance(item.get("workflow_id"), str):
        return None
    payload = item.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    event = {
        "seq": payload.get("seq"),
        "ts": item.get("occurred_at"),
        "kind": item.get("kind"),
        "phase_id": payload.get("phase_id"),
        "payload": payload,
    }
    return run_entry(item["workflow_id"], event, fallback_ts)


def entry_to_workflow_event(entry: dict[str, Any]) -> dict[str, Any]:
    """A runner entry back in the ``workflow/event`` shape ``animus events tail`` prints."""
    fields = entry.get("fields") or {}
    event: dict[str, Any] = {"workflow_id": fields.get("workflow_id"), "kind": fields.get("kind")}
    if fields.get("phase_id"):
        event["phase_id"] = fields["phase_id"]
    event["seq"] = fields.get("seq")
    event["level"] = entry["level"]
    event["payload"] = fields.get("payload") or {}
    event["occurred_at"] = entry["ts"]
    return event
