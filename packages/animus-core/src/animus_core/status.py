"""The project at a glance: task and requirement counts, the queue, active runs, blocked and
stale work, recent failures (``animus status``).

Everything is read in one snapshot straight from ``workflow.db`` summary columns, so the
report costs a handful of indexed queries however many tasks there are.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from animus_core._queue_stats import QueueStats, queue_stats
from animus_core._runs_models import RunSummary, active_runs
from animus_protocol.envelope import InvalidInputError
from animus_protocol.timeutil import format_rfc3339, utc_now

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = ["BlockedTask", "FailureItem", "StaleTask", "StatusReport", "StatusService"]

DEFAULT_STALE_HOURS = 24.0
_BLOCKED_LIMIT = 50


class BlockedTask(BaseModel):
    id: str
    title: str
    status: str
    reason: str
    waiting_on: list[str] = Field(default_factory=list)


class StaleTask(BaseModel):
    id: str
    title: str
    updated_at: str | None = None
    hours_since_update: float


class FailureItem(BaseModel):
    kind: str  # "workflow" or "error"
    id: str
    at: str | None = None
    task_id: str | None = None
    message: str


class StatusReport(BaseModel):
    project_root: str
    tasks: dict[str, int]
    tasks_total: int
    requirements: dict[str, int]
    requirements_total: int
    queue: QueueStats
    active_runs: list[RunSummary]
    blocked: list[BlockedTask]
    stale: list[StaleTask]
    stale_threshold_hours: float
    recent_failures: list[FailureItem]
    warnings: list[str] = Field(default_factory=list)


class StatusService:
    """``hub.status``."""

    def __init__(self, hub: ServiceHub) -> None:
        self.hub = hub

    def stale_threshold_hours(self, warnings: list[str]) -> float:
        from animus_config import ConfigError, load_daemon_config

        try:
            return float(load_daemon_config(self.hub.paths.pm_config).stale_threshold_hours)
        except ConfigError as exc:
            warnings.append(f"daemon config unreadable, using defaults: {exc.message}")
            return DEFAULT_STALE_HOURS

    def report(
        self, *, failures: int = 3, stale_threshold_hours: float | None = None
    ) -> StatusReport:
        if failures < 0:
            raise InvalidInputError(
                f"--failures must be 0 or more, not {failures}", hint="e.g. --failures 5"
            )
        warnings: list[str] = []
        threshold = (
            stale_threshold_hours
            if stale_threshold_hours is not None
            else self.stale_threshold_hours(warnings)
        )
        now = utc_now()
        stale_cutoff = format_rfc3339(now - timedelta(hours=threshold))
        with self.hub.db.read() as conn:
            queue = queue_stats(conn, format_rfc3339(now))
            active = active_runs(conn)
            tasks = _counts(conn, "tasks")
            requirements = _counts(conn, "requirements")
            blocked = [
                BlockedTask(
                    id=r["id"],
                    title=r["title"],
                    status=r["status"],
                    reason=r["blocked_reason"] or r["status"],
                )
                for r in conn.execute(
                    "SELECT id, title, status, blocked_reason FROM tasks "
                    "WHERE status IN ('blocked', 'on-hold') ORDER BY number, id LIMIT ?",
                    (_BLOCKED_LIMIT,),
                )
            ]
            waiting: dict[str, list[str]] = {}
            titles: dict[str, str] = {}
            for r in conn.execute(
                "SELECT t.id, t.title, d.depends_on FROM tasks AS t "
                "JOIN task_dependencies AS d ON d.task_id = t.id "
                "JOIN tasks AS dep ON dep.id = d.depends_on "
                "WHERE t.status IN ('ready', 'backlog') AND d.dependency_type = 'blocked-by' "
                "AND dep.status <> 'done' ORDER BY t.number, t.id LIMIT ?",
                (_BLOCKED_LIMIT * 4,),
            ):
                waiting.setdefault(r["id"], []).append(r["depends_on"])
                titles[r["id"]] = r["title"]
            for task_id, deps in list(waiting.items())[:_BLOCKED_LIMIT]:
                blocked.append(
                    BlockedTask(
                        id=task_id,
                        title=titles[task_id],
                        status="waiting",
                        reason=f"waiting on {', '.join(deps)}",
                        waiting_on=deps,
                    )
                )
            stale = []
            for r in conn.execute(
                "SELECT id, title, updated_at FROM tasks WHERE status = 'in-progress' "
                "AND updated_at < ? ORDER BY updated_at LIMIT ?",
                (stale_cutoff, _BLOCKED_LIMIT),
            ):
                stale.append(_stale(r, now))
            recent = _failures(conn, failures)
        return StatusReport(
            project_root=str(self.hub.project_root),
            tasks=tasks,
            tasks_total=sum(tasks.values()),
            requirements=requirements,
            requirements_total=sum(requirements.values()),
            queue=queue,
            active_runs=active,
            blocked=blocked,
            stale=stale,
            stale_threshold_hours=threshold,
            recent_failures=recent,
            warnings=warnings,
        )


def _counts(conn: Any, table: str) -> dict[str, int]:
    return {
        str(r[0]): int(r[1])
        for r in conn.execute(
            f"SELECT status, count(*) FROM {table} GROUP BY status ORDER BY status"  # noqa: S608
        )
    }


def _stale(row: Any, now: Any) -> StaleTask:
    from animus_protocol.timeutil import parse_rfc3339

    hours = 0.0
    if row["updated_at"]:
        hours = round((now - parse_rfc3339(row["updated_at"])).total_seconds() / 3600, 1)
    return StaleTask(
        id=row["id"], title=row["title"], updated_at=row["updated_at"], hours_since_update=hours
    )


def _failures(conn: Any, limit: int) -> list[FailureItem]:
    if limit == 0:
        return []
    items = [
        FailureItem(
            kind="workflow",
            id=r["id"],
            at=r["failed_at"] or r["completed_at"],
            task_id=r["task_id"],
            message=r["failure_reason"] or "failed",
        )
        for r in conn.execute(
            "SELECT id, task_id, failed_at, completed_at, failure_reason FROM workflows "
            "WHERE status = 'failed' ORDER BY failed_at DESC LIMIT ?",
            (limit,),
        )
    ]
    items += [
        FailureItem(
            kind="error",
            id=str(r["id"]),
            at=r["ts"],
            task_id=r["task_id"],
            message=f"[{r['category']}] {r['message']}",
        )
        for r in conn.execute(
            "SELECT id, ts, category, task_id, message FROM errors "
            "WHERE severity IN ('critical', 'error') AND resolved_at IS NULL "
            "ORDER BY ts DESC LIMIT ?",
            (limit,),
        )
    ]
    items.sort(key=lambda i: i.at or "", reverse=True)
    return items[:limit]
