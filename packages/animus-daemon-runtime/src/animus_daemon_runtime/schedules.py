"""Cron schedules: 5-field expressions in UTC, forward only, 10-minute catch-up horizon.

State (``state/schedule-state.json``) keeps, per schedule, ``next_run`` (the next deadline,
fixed when the schedule is first seen so a new schedule never fires for the past),
``last_run``, ``run_count`` and ``missed_count``. A deadline that passed less than the
catch-up horizon ago fires once; older deadlines (a daemon that was down) count as missed.
The clock is injectable so tests move time instead of waiting for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from croniter import croniter

from animus_protocol.timeutil import format_rfc3339, parse_rfc3339
from animus_store import write_json_atomic

__all__ = [
    "CATCH_UP_HORIZON",
    "DueSchedule",
    "ScheduleBook",
    "in_active_hours",
    "next_cron_time",
]

CATCH_UP_HORIZON = timedelta(minutes=10)
Clock = Callable[[], datetime]


class ScheduleLike(Protocol):
    id: str
    cron: str
    workflow_ref: str
    input: Any
    enabled: bool


@dataclass(frozen=True)
class DueSchedule:
    schedule_id: str
    workflow_ref: str
    input: Any
    fire_time: datetime


def next_cron_time(expression: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that matches the 5-field UTC ``expression``."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron expression {expression!r} must have 5 fields")
    base = after.astimezone(UTC)
    nxt = croniter(expression, base).get_next(datetime)
    if not isinstance(nxt, datetime):  # pragma: no cover - croniter returns the asked type
        raise TypeError("croniter returned a non-datetime")
    return nxt.astimezone(UTC)


def in_active_hours(window: str | None, now: datetime) -> bool:
    """``HH:MM-HH:MM`` in UTC (the end is exclusive; a window may wrap midnight)."""
    if not window:
        return True
    start_text, _, end_text = window.partition("-")
    sh, sm = (int(x) for x in start_text.split(":"))
    eh, em = (int(x) for x in end_text.split(":"))
    minute = now.astimezone(UTC).hour * 60 + now.astimezone(UTC).minute
    start, end = sh * 60 + sm, eh * 60 + em
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


class ScheduleBook:
    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self.state: dict[str, dict[str, Any]] = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            # Never overwrite state that fails to parse: keep it aside and start fresh.
            aside = self.path.with_suffix(".corrupt.json")
            self.path.replace(aside)
            return {}
        schedules = raw.get("schedules", {}) if isinstance(raw, dict) else {}
        return {k: dict(v) for k, v in schedules.items() if isinstance(v, dict)}

    def save(self) -> None:
        write_json_atomic(
            self.path, {"schema": "animus.schedule-state.v1", "schedules": self.state}
        )

    def due(self, schedules: Iterable[ScheduleLike]) -> list[DueSchedule]:
        """Deadlines reached since the last call (each fires at most once per call)."""
        now = self.clock()
        fired: list[DueSchedule] = []
        changed = False
        for schedule in schedules:
            if not schedule.enabled:
                continue
            entry = self.state.setdefault(schedule.id, {"run_count": 0, "missed_count": 0})
            if entry.get("cron") != schedule.cron or not entry.get("next_run"):
                entry["cron"] = schedule.cron
                entry["next_run"] = format_rfc3339(next_cron_time(schedule.cron, now))
                changed = True
                continue
            deadline = parse_rfc3339(entry["next_run"])
            fire_at: datetime | None = None
            while deadline <= now:
                if now - deadline <= CATCH_UP_HORIZON and fire_at is None:
                    fire_at = deadline
                else:
                    entry["missed_count"] = int(entry.get("missed_count", 0)) + 1
                deadline = next_cron_time(schedule.cron, deadline)
                changed = True
            entry["next_run"] = format_rfc3339(deadline)
            if fire_at is not None:
                fired.append(
                    DueSchedule(schedule.id, schedule.workflow_ref, schedule.input, fire_at)
                )
        if changed:
            self.save()
        return fired

    def record_dispatch(
        self, schedule_id: str, fire_time: datetime, workflow_id: str | None
    ) -> None:
        entry = self.state.setdefault(schedule_id, {"run_count": 0, "missed_count": 0})
        entry["last_run"] = format_rfc3339(fire_time)
        entry["run_count"] = int(entry.get("run_count", 0)) + 1
        if workflow_id:
            entry["last_workflow_id"] = workflow_id
        self.save()

    def record_skip(self, schedule_id: str, reason: str) -> None:
        entry = self.state.setdefault(schedule_id, {"run_count": 0, "missed_count": 0})
        entry["missed_count"] = int(entry.get("missed_count", 0)) + 1
        entry["last_skip_reason"] = reason
        self.save()

    def record_outcome(self, schedule_id: str, status: str) -> None:
        entry = self.state.setdefault(schedule_id, {"run_count": 0, "missed_count": 0})
        entry["last_status"] = status
        self.save()

    def next_deadline(self) -> datetime | None:
        deadlines = [parse_rfc3339(v["next_run"]) for v in self.state.values() if v.get("next_run")]
        return min(deadlines) if deadlines else None
