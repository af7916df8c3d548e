"""The daemon: an asyncio loop that wakes on events, dispatches within capacity, supervises
runner processes and hands execution facts to the projectors.

Wake sources: a ``daemon/nudge`` (enqueue, release, subject status change), a run's
completion, the next cron deadline, a config change and, only as a fallback, the heartbeat
(``interval_secs``, default 5 s). The scheduler knows subjects, slots, processes and events,
never task policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from animus_config import DaemonConfig, effective_pool_size, load_daemon_config
from animus_core.hub import ServiceHub
from animus_daemon_runtime._proc import process_start_time
from animus_daemon_runtime.bus import EventBus
from animus_daemon_runtime.capacity import dispatch_budget
from animus_daemon_runtime.daemon_events import DaemonEvents
from animus_daemon_runtime.metrics import Metrics
from animus_daemon_runtime.projectors import FactProjectors
from animus_daemon_runtime.recovery import RecoveryMixin
from animus_daemon_runtime.runner_process import (
    ProcessManager,
    RunnerExit,
    RunnerRecord,
    read_runner_record,
    subject_arg,
)
from animus_daemon_runtime.schedules import ScheduleBook, in_active_hours
from animus_daemon_runtime.triggers import FileWatchers, WebhookGate
from animus_protocol.envelope import AnimusError, ConflictError, NotFoundError
from animus_protocol.events import SubjectExecutionFact
from animus_protocol.statuses import WorkflowStatus
from animus_protocol.timeutil import format_rfc3339, parse_rfc3339, utc_now, utc_now_str
from animus_store import write_json_atomic

__all__ = ["Daemon", "DaemonOptions", "system_clock"]

# How long a resume waits for a paused run's runner process to finish exiting.
RESUME_EXIT_WAIT_SECS = 10.0

MAX_CRASH_RESUMES = 1
_TERMINAL = ("completed", "failed", "escalated", "cancelled")


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_from_env(env: dict[str, str]) -> Callable[[], datetime]:
    """``ANIMUS_DAEMON_CLOCK_FILE``: a file holding an RFC 3339 time read as "now" (a test
    hook that lets a real daemon process see injected time); else the system clock."""
    path = env.get("ANIMUS_DAEMON_CLOCK_FILE", "").strip()
    if not path:
        return system_clock

    def read() -> datetime:
        try:
            return parse_rfc3339(Path(path).read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return system_clock()

    return read


@dataclass
class DaemonOptions:
    once: bool = False
    pool_size: int | None = None
    interval_secs: float | None = None
    max_tasks_per_tick: int | None = None
    clock: Callable[[], datetime] | None = None
    env: dict[str, str] | None = None
    # uids allowed on the control socket (default: only ours).
    allowed_uids: frozenset[int] | None = None
    control_socket: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def new_workflow_id() -> str:
    return f"wf-{uuid.uuid4().hex[:16]}"


class Daemon(RecoveryMixin):
    def __init__(self, project_root: str | os.PathLike[str], options: DaemonOptions | None = None):
        self.options = options or DaemonOptions()
        self.env = dict(os.environ if self.options.env is None else self.options.env)
        self.hub = ServiceHub(project_root, env=self.env)
        self.paths = self.hub.paths
        self.project_root = self.hub.project_root
        self.clock = self.options.clock or clock_from_env(self.env)
        self.bus = EventBus()
        self.metrics = Metrics()
        self.events = DaemonEvents(self.paths.events_log, self.bus, self.project_root)
        self.wake = asyncio.Event()
        self._background: set[asyncio.Task[Any]] = set()
        # One capacity decision at a time: a tick from the loop and one from workflow/run
        # (or a crash resume) must not both count the same free slot.
        self._dispatch_lock = asyncio.Lock()
        self.wake_reasons: list[str] = []
        self.last_wake_reasons: list[str] = []
        self.stopping = False
        self.draining = False
        self.paused = False
        self.paused_at: str | None = None
        self.status = "starting"
        self.started_at = utc_now_str()
        self.last_error: str | None = None
        self.config_error: str | None = None
        self.workflow_config_error: str | None = None
        self.config = DaemonConfig()
        self._config_mtime: float | None = None
        self._workflow_config_mtime: float | None = None
        self.workflow_config: Any = None
        self.schedule_book: ScheduleBook | None = None
        self.grace: dict[str, float] = {}
        self.launch_grace: dict[str, str] = {}
        self.stop_timeout: float | None = None
        self.wakes = 0
        self.completed_total = 0
        self.failed_total = 0
        self.projectors = FactProjectors(
            self.hub, self.events, self.metrics, lambda: self.schedule_book
        )
        self.pm = ProcessManager(
            self.paths,
            self.project_root,
            self.bus,
            on_event=self._on_runner_event,
            on_exit=self._on_runner_exit,
            env=self.env,
        )
        self.watchers = FileWatchers(
            self.project_root,
            self._fire_trigger,
            lambda tid, paths: self.events.emit("trigger", {"trigger_id": tid, "watching": paths}),
        )
        self.webhooks = WebhookGate()
        from animus_daemon_runtime.subject_watch import SubjectWatch

        self.subject_watch = SubjectWatch(self.hub, self.bus)
        from animus_daemon_runtime.notifications import NotificationDispatcher
        from animus_daemon_runtime.plugin_triggers import PluginTriggers

        self.plugin_triggers = PluginTriggers(
            self.project_root,
            self.env,
            self._route_plugin_event,
            self.events.emit,
            self.metrics.inc,
        )

        self.notifications = NotificationDispatcher(
            self.project_root,
            self.env,
            lambda plugin, error: self.events.emit(
                "notification-runtime-error", {"plugin": plugin, "error": error}
            ),
            self.metrics.inc,
        )
        self.control: Any = None
        self._claim: Any = None
        self._stopped = asyncio.Event()

    # -- configuration -----------------------------------------------------------------------

    def reload_config(self) -> bool:
        """Re-read ``pm-config.json`` (and the workflow YAML) when they changed."""
        changed = False
        try:
            mtime: float | None = self.paths.pm_config.stat().st_mtime_ns
        except OSError:
            mtime = None
        if mtime != self._config_mtime or self._config_mtime is None:
            self._config_mtime = mtime
            try:
                self.config = load_daemon_config(self.paths.pm_config)
                self.pm.launch = self.config.runner_launch
                self._configure_notifications()
                self.config_error = None
                changed = True
            except AnimusError as exc:
                # The last good config stays in force; health says what is wrong.
                self.events.emit("config-reload", {"ok": False, "error": exc.message})
                self.config_error = f"pm-config.json: {exc.message}"
        wf_mtime = self._workflow_sources_mtime()
        if wf_mtime != self._workflow_config_mtime:
            self._workflow_config_mtime = wf_mtime
            try:
                self.workflow_config = self.hub.load_config().config
                self.watchers.sync(list(self.workflow_config.triggers))
                self.plugin_triggers.sync(list(self.workflow_config.triggers))
                self.workflow_config_error = None
                changed = True
            except AnimusError as exc:
                self.events.emit("yaml-compile", {"ok": False, "error": exc.message})
                self.workflow_config_error = f"workflow configuration: {exc.message}"
        return changed

    def _configure_notifications(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # configured again from inside the loop
        self.notifications.configure(self.config.notification_config)

    def _workflow_sources_mtime(self) -> float:
        pp = self.hub.project_paths
        newest = 0.0
        candidates = [pp.workflows_yaml]
        with contextlib.suppress(OSError):
            candidates += list(pp.workflows_dir.glob("*.yaml"))
        for path in candidates:
            with contextlib.suppress(OSError):
                newest = max(newest, path.stat().st_mtime_ns)
        return newest

    @property
    def pool_size(self) -> int:
        if self.options.pool_size:
            return self.options.pool_size
        return effective_pool_size(self.config, self.env)

    @property
    def interval(self) -> float:
        return float(self.options.interval_secs or self.config.interval_secs)

    @property
    def max_per_wake(self) -> int:
        return int(self.options.max_tasks_per_tick or self.config.max_tasks_per_tick)

    # -- wake-ups ------------------------------------------------------------------------------

    def nudge(self, reason: str = "nudge") -> None:
        self.wake_reasons.append(reason)
        self.wake.set()

    def _next_timeout(self) -> float:
        timeout = self.interval
        if self.schedule_book is not None:
            deadline = self.schedule_book.next_deadline()
            if deadline is not None:
                timeout = min(timeout, max(0.0, (deadline - self.clock()).total_seconds()))
        if self.grace:
            timeout = min(timeout, max(0.05, min(self.grace.values()) - time.monotonic()))
        if self.launch_grace:  # a runner that may be starting: look for its run often
            timeout = min(timeout, 0.5)
        return max(timeout, 0.0)

    async def _loop(self) -> None:
        while not self.stopping:
            try:
                await asyncio.wait_for(self.wake.wait(), self._next_timeout())
            except TimeoutError:
                self.wake_reasons.append("heartbeat")
            self.wake.clear()
            if self._stop_requested():
                break
            try:
                await self.tick()
            except Exception as exc:
                self.last_error = f"tick failed: {type(exc).__name__}: {exc}"
                self.events.emit("status", {"error": self.last_error})

    async def tick(self) -> None:
        async with self._dispatch_lock:
            await self._tick()

    async def _tick(self) -> None:
        self.wakes += 1
        self.last_wake_reasons, self.wake_reasons = self.wake_reasons, []
        if self.reload_config() and self._config_mtime is not None:
            self.events.emit("config-reload", {"ok": True, "pool_size": self.pool_size})
        now = self.clock()
        await self._check_grace()
        # Schedules enqueue; their entries then compete for the same slots in queue order.
        self._dispatch_schedules(now)
        await self._dispatch()
        self._update_gauges()

    def _update_gauges(self) -> None:
        self.metrics.set("active_runs", len(self.pm.active))
        fs = self.pm.forkserver
        self.metrics.set("forkserver_up", 1 if fs is not None and fs.alive else 0)
        if fs is not None:
            self.metrics.set("runner_forks", fs.forks_total)
            self.metrics.set("forkserver_starts", fs.starts_total)
        self.metrics.set("runner_fork_fallbacks", self.pm.fork_fallbacks)
        try:
            stats = self.hub.queue.stats()
            self.metrics.set("queue_depth", stats.pending + stats.held)
        except AnimusError:
            pass

    # -- dispatch --------------------------------------------------------------------------------

    def _active_count(self) -> int:
        return len(self.pm.active) + len(self.grace)

    async def _dispatch(self) -> int:
        budget = dispatch_budget(
            pool_size=self.pool_size,
            active=self._active_count(),
            max_per_wake=self.max_per_wake,
            draining=self.draining or self.stopping,
            paused=self.paused,
        )
        if budget.slots == 0:
            return 0
        exclude = {h.record.subject_key for h in self.pm.active.values() if h.record.subject_key}
        ids = [new_workflow_id() for _ in range(budget.slots)]
        entries = self.hub.queue.lease(budget.slots, exclude_subjects=exclude, workflow_ids=ids)
        started = 0
        for entry in entries:
            workflow_id = entry.workflow_id or new_workflow_id()
            dispatch = entry.dispatch
            if dispatch is None:  # never leased by core; guard for a row rewritten meanwhile
                with contextlib.suppress(AnimusError):
                    self.hub.queue.complete(entry.entry_id, "failed")
                continue
            try:
                await self.pm.spawn(
                    workflow_id=workflow_id,
                    subject=subject_arg(dispatch.subject),
                    subject_key=entry.subject_key,
                    entry_id=entry.entry_id,
                    workflow_ref=dispatch.workflow_ref or entry.workflow_ref,
                    input=dispatch.input,
                    vars=dict(dispatch.vars),
                )
            except AnimusError as exc:
                self.last_error = exc.message
                with contextlib.suppress(AnimusError):
                    self.hub.queue.release_pending(entry.entry_id, reason=exc.message)
                self.events.emit(
                    "queue",
                    {"action": "dispatch-failed", "entry_id": entry.entry_id, "error": exc.message},
                )
                break
            started += 1
            self.last_error = None
            self.projectors.started(
                SubjectExecutionFact(
                    subject_id=entry.subject_key,
                    subject_kind=entry.subject_kind,
                    task_id=entry.task_id,
                    workflow_id=workflow_id,
                    workflow_ref=entry.workflow_ref,
                    success=True,
                ),
                resumed=False,
            )
        if started and started == budget.slots == self.max_per_wake:
            self.nudge("ramp-up")  # the per-wake limit was hit; more may be waiting
        return started

    # -- schedules and triggers ------------------------------------------------------------------

    def _active_hours(self) -> str | None:
        cfg = self.workflow_config
        return getattr(getattr(cfg, "daemon", None), "active_hours", None) if cfg else None

    def _dispatch_schedules(self, now: datetime) -> int:
        """Enqueue every due schedule (gated by active hours); returns how many."""
        cfg = self.workflow_config
        if cfg is None or not cfg.schedules:
            return 0
        if self.schedule_book is None:
            self.schedule_book = ScheduleBook(
                self.paths.state_dir / "schedule-state.json", self.clock
            )
        due = self.schedule_book.due(cfg.schedules)
        queued = 0
        for item in due:
            if not in_active_hours(self._active_hours(), now):
                self.schedule_book.record_skip(item.schedule_id, "outside active_hours")
                continue
            try:
                entry = self.hub.queue.enqueue_custom(
                    f"schedule {item.schedule_id} {format_rfc3339(item.fire_time)}",
                    workflow_ref=item.workflow_ref,
                    input=item.input,
                    trigger_source=f"schedule:{item.schedule_id}",
                )
            except AnimusError as exc:
                self.schedule_book.record_skip(item.schedule_id, exc.message)
                continue
            self.schedule_book.record_dispatch(item.schedule_id, item.fire_time, None)
            self.events.emit(
                "schedule", {"schedule_id": item.schedule_id, "entry_id": entry.entry_id}
            )
            queued += 1
        return queued

    def _fire_trigger(self, trigger_id: str, workflow_ref: str, payload: Any) -> dict[str, Any]:
        if not in_active_hours(self._active_hours(), self.clock()):
            self.metrics.inc("trigger_events_total", plugin=trigger_id, routed="false")
            self.events.emit(
                "trigger",
                {"trigger_id": trigger_id, "routed": False, "reason": "outside active_hours"},
            )
            return {"routed": False, "reason": "outside active_hours"}
        entry = self.hub.queue.enqueue_custom(
            f"trigger {trigger_id} {utc_now_str()} {uuid.uuid4().hex[:6]}",
            workflow_ref=workflow_ref,
            input=payload,
            trigger_source=f"trigger:{trigger_id}",
        )
        self.metrics.inc("trigger_events_total", plugin=trigger_id, routed="true")
        self.events.emit(
            "trigger", {"trigger_id": trigger_id, "routed": True, "entry_id": entry.entry_id}
        )
        self.nudge(f"trigger:{trigger_id}")
        return {"routed": True, "entry_id": entry.entry_id}

    def _route_plugin_event(
        self, trigger: Any, event: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """A trigger plugin's event: a task subject is queued itself, anything else as a
        custom subject running the trigger's workflow."""
        if not in_active_hours(self._active_hours(), self.clock()):
            return "skipped", {"reason": "outside active_hours"}
        payload = event.get("payload") or {}
        subject_id = event.get("subject_id")
        kind = str(event.get("subject_kind") or "")
        if subject_id and kind in ("task", "animus.task"):
            entry = self.hub.queue.enqueue_subject(
                "task",
                str(subject_id),
                workflow_ref=trigger.workflow_ref,
                input=payload or None,
                trigger_source=f"trigger:{trigger.id}",
            )
        else:
            entry = self.hub.queue.enqueue_custom(
                f"trigger {trigger.id} {event['event_id']}",
                workflow_ref=trigger.workflow_ref,
                input={"event_id": event["event_id"], "subject_id": subject_id, **payload},
                trigger_source=f"trigger:{trigger.id}",
            )
        self.nudge(f"trigger:{trigger.id}")
        return "queued", {"entry_id": entry.entry_id}

    def fire_webhook(self, trigger_id: str, payload: Any) -> dict[str, Any]:
        cfg = self.workflow_config
        triggers = {t.id: t for t in (cfg.triggers if cfg else [])}
        trigger = triggers.get(trigger_id)
        if trigger is None or trigger.type not in ("webhook", "github_webhook"):
            raise NotFoundError(
                f"no webhook trigger {trigger_id!r} in the workflow configuration",
                details={"trigger_id": trigger_id, "known": sorted(triggers)},
                hint="declare it under triggers: with type: webhook",
            )
        if not trigger.enabled:
            raise ConflictError(f"trigger {trigger_id} is disabled", hint="set enabled: true")
        per_minute = int((trigger.config or {}).get("max_triggers_per_minute", 10))
        if not self.webhooks.allow(trigger_id, per_minute):
            raise ConflictError(
                f"trigger {trigger_id} fired more than {per_minute} times in a minute",
                hint="raise max_triggers_per_minute or fire less often",
            )
        return self._fire_trigger(trigger_id, trigger.workflow_ref, payload)

    # -- runner facts ----------------------------------------------------------------------------

    def _on_runner_event(self, workflow_id: str, event: dict[str, Any]) -> None:
        payload = (
            dict(event.get("payload") or {})
            if isinstance(event.get("payload"), dict)
            else {"value": event.get("payload")}
        )
        if event.get("phase_id"):
            payload.setdefault("phase_id", event["phase_id"])
        if "seq" in event:
            payload.setdefault("seq", event["seq"])
        item = {
            "workflow_id": workflow_id,
            "kind": str(event.get("kind", "")),
            "payload": payload,
            "occurred_at": event.get("ts") or utc_now_str(),
        }
        self.bus.publish("workflow/event", item)
        self.projectors.workflow_event(workflow_id, event)

    async def _on_runner_exit(self, exit: RunnerExit) -> None:
        try:
            await self._project_exit(exit)
        except Exception as exc:
            self.last_error = f"projecting {exit.record.workflow_id}: {type(exc).__name__}: {exc}"
            self.events.emit("status", {"error": self.last_error})
        self.nudge("completion")

    async def _project_exit(self, exit: RunnerExit) -> None:
        rec = exit.record
        run, status = self._run_status(rec.workflow_id)
        if rec.stop_reason == "shutdown" and status not in _TERMINAL:
            # Our own stop interrupted it: the entry stays assigned, the next start resumes.
            self.events.emit(
                "graceful-shutdown", {"workflow_id": rec.workflow_id, "exit": exit.describe()}
            )
            return
        if rec.stop_reason == "cancel" and run is not None and status not in _TERMINAL:
            from animus_workflow_runner.control import settle_offline

            run = settle_offline(self.hub, rec.workflow_id, "cancel")
            status = run.status.value
        if status == "paused" and exit.outcome in ("paused", "unknown"):
            self.events.emit("workflow", {"action": "paused", "workflow_id": rec.workflow_id})
            return
        crashed = status in ("pending", "running") or (
            run is None and exit.outcome not in ("invalid_input", "unavailable")
        )
        failure_reason = run.failure_reason if run is not None else None
        if crashed or run is None:
            reason = exit.describe()
            if exit.stderr_tail:
                # The reason lands in the run, the task's blocked_reason and history: the
                # same redaction as the event log, so a secret a crashing runner printed is
                # not persisted in workflow.db.
                from animus_store import Redactor

                tail = Redactor.from_env(self.env).redact_text(exit.stderr_tail[-600:])
                reason += f"; output tail: {tail}"
            self.events.emit(
                "recovery" if crashed else "workflow",
                {
                    "action": "runner-crashed" if crashed else "runner-refused",
                    "workflow_id": rec.workflow_id,
                    "reason": reason,
                },
            )
            if (
                run is not None
                and self.config.resume_interrupted
                and rec.attempts < MAX_CRASH_RESUMES
                and not (self.draining or self.stopping)
            ):
                async with self._dispatch_lock:
                    await self._respawn(rec, run)
                self.events.emit(
                    "recovery", {"action": "resumed-after-crash", "workflow_id": rec.workflow_id}
                )
                return
            failure_reason = reason
            if run is not None:
                run.status = WorkflowStatus.FAILED
                run.failure_reason = reason
                run.completed_at = utc_now()
                self.hub.runs.save(run)
            status = "failed"
        fact = SubjectExecutionFact(
            subject_id=rec.subject_key or rec.subject,
            task_id=(run.task_id if run is not None and run.task_id else None)
            or (rec.subject.split(":", 1)[1] if rec.subject.startswith("task:") else None),
            workflow_id=rec.workflow_id,
            workflow_ref=rec.workflow_ref,
            workflow_status=WorkflowStatus.parse(status) if status else WorkflowStatus.FAILED,
            schedule_id=self._schedule_of(rec.entry_id),
            exit_code=exit.exit_code,
            success=status == "completed",
            failure_reason=failure_reason,
        )
        if crashed or run is None:
            self.projectors.crashed(fact, failure_reason or exit.describe())
        elif status == "paused" and exit.outcome == "cancelled":
            # The runner refused to resume (a side-effecting step was interrupted): the run
            # waits for an operator; its task says why and what to do.
            self.projectors.crashed(
                fact,
                f"{failure_reason or 'resume refused'}; check the worktree, then run "
                f"'animus workflow resume {rec.workflow_id} --force'",
            )
        self.projectors.finished(fact, entry_id=rec.entry_id)
        if status == "completed":
            self.completed_total += 1
        else:
            self.failed_total += 1

    async def _respawn(self, rec: RunnerRecord, run: Any) -> None:
        """Start a crashed run's runner again with ``--resume`` (its slot was just freed)."""
        await self.pm.spawn(
            workflow_id=rec.workflow_id,
            subject=rec.subject,
            subject_key=rec.subject_key,
            entry_id=rec.entry_id,
            workflow_ref=rec.workflow_ref,
            input=run.input,
            vars=dict(run.vars),
            resume=True,
            attempts=rec.attempts + 1,
        )

    def supervised_plugins(self) -> dict[str, Any]:
        """Supervisors of the plugins the daemon keeps running, by plugin name."""
        out: dict[str, Any] = {}
        for name, sup in self.notifications.supervisors().items():
            out[name] = sup
        for sup in self.plugin_triggers.supervisors():
            out[str(sup.name)] = sup
        return out

    def _schedule_of(self, entry_id: str | None) -> str | None:
        if not entry_id:
            return None
        try:
            entry = self.hub.queue.get(entry_id)
        except AnimusError:
            return None
        source = entry.trigger_source or ""
        return source.split(":", 1)[1] if source.startswith("schedule:") else None

    # -- operator actions --------------------------------------------------------------------------

    def set_paused(self, paused: bool) -> dict[str, Any]:
        self.paused = paused
        self.paused_at = utc_now_str() if paused else None
        self.status = "paused" if paused else "running"
        self._save_state()
        self.events.emit("status", {"runtime_paused": paused})
        if not paused:
            self.nudge("resume")
        return {"runtime_paused": self.paused, "paused_at": self.paused_at}

    def _save_state(self) -> None:
        with contextlib.suppress(OSError):
            write_json_atomic(
                self.paths.daemon_state,
                {
                    "status": self.status,
                    "pid": os.getpid(),
                    "runtime_paused": self.paused,
                    "paused_at": self.paused_at,
                    "started_at": self.started_at,
                    "updated_at": utc_now_str(),
                },
            )

    def _load_state(self) -> None:
        import json

        try:
            raw = json.loads(self.paths.daemon_state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(raw, dict) and raw.get("runtime_paused"):
            self.paused = True
            self.paused_at = raw.get("paused_at")

    async def stop_workflow(self, workflow_id: str, reason: str) -> bool:
        """Note why a live runner is about to stop (``pause`` or ``cancel``); the request
        itself travels in the run's ``control`` field, which the runner polls."""
        handle = self.pm.active.get(workflow_id)
        if handle is None:
            return False
        handle.record.stop_reason = reason
        handle.save_record()
        return True

    async def resume_workflow(self, workflow_id: str) -> None:
        run, status = self._run_status(workflow_id)
        if run is None:
            raise NotFoundError(
                f"workflow run {workflow_id} not found", hint="animus workflow list"
            )
        if workflow_id in self.pm.active and status == "paused":
            # The runner records the pause before it exits, so a prompt resume can find its
            # process still on the way out; wait for that (bounded) instead of refusing.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + RESUME_EXIT_WAIT_SECS
            # ASYNC110: the process manager exposes no per-run exit event; this is a bounded
            # 50 ms poll on a rare, operator-driven path.
            while workflow_id in self.pm.active and loop.time() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        if workflow_id in self.pm.active:
            raise ConflictError(f"workflow run {workflow_id} is already running")
        if status != "paused":
            raise ConflictError(
                f"workflow run {workflow_id} is {status}; only paused runs resume",
                hint="see 'animus workflow get'",
            )
        rec = read_runner_record(self.paths, workflow_id)
        from animus_protocol.subjects import subject_key

        entry = self.hub.queue.entry_for_subject(subject_key(run.subject))
        async with self._dispatch_lock:
            await self.pm.spawn(
                workflow_id=workflow_id,
                subject=subject_arg(run.subject),
                subject_key=subject_key(run.subject),
                entry_id=entry.entry_id if entry else (rec.entry_id if rec else None),
                workflow_ref=run.workflow_ref,
                input=run.input,
                vars=dict(run.vars),
                resume=True,
            )

    # -- lifecycle ------------------------------------------------------------------------------

    def _stop_requested(self) -> bool:
        # A method, not an attribute read: mypy narrows ``self.stopping`` to False inside the
        # loop and cannot see the signal handler that flips it.
        return self.stopping

    def request_stop(self) -> None:
        if not self.stopping:
            self.stopping = True
            self.status = "stopping"
            self.wake.set()

    async def run(self) -> int:
        from animus_daemon_runtime.lifecycle import acquire_scope, release_scope

        self.hub.ensure_ready()
        self._claim = acquire_scope(self)
        loop = asyncio.get_running_loop()
        try:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop)
            self.events.listeners.append(self.notifications.offer)
            self.reload_config()
            self._load_state()
            self.events.emit(
                "daemon_startup",
                {"pid": os.getpid(), "pool_size": self.pool_size, "fence": self._claim.token},
            )
            if self.options.control_socket and not self.env.get(
                "ANIMUS_DAEMON_DISABLE_CONTROL_SERVER"
            ):
                from animus_daemon_runtime.control_server import ControlServer

                self.control = ControlServer(self, allowed_uids=self.options.allowed_uids)
                await self.control.start()
                self.events.emit("control-server-resolved", {"path": str(self.paths.control_sock)})
            await self.recover()
            # The forkserver's imports (~1 s) overlap the first wake instead of delaying the
            # first dispatch; spawn() waits for a start already under way.
            warm = asyncio.create_task(self.pm.warm(), name="forkserver-warm")
            self._background.add(warm)
            warm.add_done_callback(self._background.discard)
            self.subject_watch.start()
            self.status = "paused" if self.paused else "running"
            self._save_state()
            if self.options.once:
                await self.tick()
                while self.pm.active or self.grace:
                    await asyncio.sleep(0.05)
                    await self._check_grace()
            else:
                self.nudge("startup")
                await self._loop()
            await self._shutdown()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(sig)
            await self.watchers.close()
            for task in list(self._background):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.pm.close()
            await self.plugin_triggers.close()
            await self.subject_watch.close()
            await self.notifications.drain(5.0)
            if self.control is not None:
                await self.control.close()
            self.status = "stopped"
            self._save_state()
            self.events.emit("daemon_shutdown", {"pid": os.getpid()})
            release_scope(self, self._claim)
            self.hub.close()
            self._stopped.set()
        return 0

    async def _shutdown(self) -> None:
        """Stop dispatching, ask runners to checkpoint, wait up to the shutdown timeout."""
        self.draining = True
        self.status = "stopping"
        if not self.pm.active:
            return
        timeout = float(
            self.stop_timeout
            if self.stop_timeout is not None
            else self.config.shutdown_timeout_secs
        )
        self.events.emit(
            "daemon-draining", {"active": sorted(self.pm.active), "timeout_secs": timeout}
        )
        for handle in list(self.pm.active.values()):
            if handle.attached and self.options.extra.get("leave_attached"):
                continue
            handle.record.stop_reason = "shutdown"
            with contextlib.suppress(OSError):
                handle.save_record()
            handle.signal(signal.SIGTERM)
        if not await self.pm.wait_all(timeout):
            left = sorted(self.pm.active)
            self.pm.signal_all(signal.SIGKILL)
            await self.pm.wait_all(5)
            self.events.emit("graceful-shutdown", {"timed_out": True, "killed": left})

    def identity(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "start_time": process_start_time(os.getpid()),
            "started_at": self.started_at,
            "project_root": str(self.project_root),
            "control_sock": str(self.paths.control_sock),
        }
