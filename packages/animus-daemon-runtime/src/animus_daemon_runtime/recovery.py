"""Recovery at start (and on later wakes for runs in their grace period).

Runs whose runner is alive are re-attached (followed, never started twice); active runs
whose runner is gone are resumed (the runner decides per phase idempotency and its step
journal) or, with ``resume_interrupted`` off, paused and their task blocked with the command
to run; runs started less than 90 s ago without a runner record wait for a later wake;
queue entries of finished runs are completed; entries whose runner never started go back to
pending; in-progress tasks with no active run and no queued entry heal to ready.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from animus_daemon_runtime.runner_process import RunnerRecord, read_runner_record, subject_arg
from animus_protocol.envelope import AnimusError
from animus_protocol.statuses import WorkflowStatus
from animus_protocol.timeutil import parse_rfc3339, utc_now

if TYPE_CHECKING:
    from animus_config import DaemonConfig
    from animus_core.hub import ServiceHub
    from animus_daemon_runtime.daemon_events import DaemonEvents
    from animus_daemon_runtime.runner_process import ProcessManager
    from animus_protocol.paths import ScopePaths

__all__ = ["GRACE", "LAUNCH_GRACE", "RecoveryMixin"]

GRACE = timedelta(seconds=90)
# An entry leased this recently whose run is not recorded yet may have a runner starting
# right now (its daemon died between the fork and the runner's first write): wait this
# long for the run to appear before dispatching the entry again.
LAUNCH_GRACE = timedelta(seconds=20)
_ACTIVE = ("pending", "running", "paused")
_TERMINAL = ("completed", "failed", "escalated", "cancelled")


class RecoveryMixin:
    """The recovery half of :class:`~animus_daemon_runtime.daemon.Daemon`."""

    hub: ServiceHub
    paths: ScopePaths
    pm: ProcessManager
    events: DaemonEvents
    config: DaemonConfig
    grace: dict[str, float]
    # workflow id -> queue entry id, for the graces waiting on a run to be recorded at all
    launch_grace: dict[str, str]

    def _run_status(self, workflow_id: str) -> tuple[Any, str | None]:
        try:
            run = self.hub.runs.get(workflow_id)
        except AnimusError:
            return None, None
        return run, run.status.value

    async def recover(self) -> dict[str, list[str]]:
        """Re-attach live runners, resume or block orphaned runs, reconcile queue and tasks."""
        report: dict[str, list[str]] = {
            "attached": [],
            "resumed": [],
            "blocked": [],
            "grace": [],
            "released": [],
            "completed_entries": [],
            "healed_tasks": [],
        }
        handled: set[str] = set()
        for summary in self.hub.runs.active():
            rec = read_runner_record(self.paths, summary.id)
            handled.add(summary.id)
            if rec is None or not rec.alive():
                rec = self._runner_from_run(summary.id) or rec
            if rec is not None and rec.alive():
                await self.pm.attach(rec)
                report["attached"].append(summary.id)
                continue
            if summary.status == "paused" and not (
                rec is not None and rec.stop_reason == "shutdown"
            ):
                continue  # an operator pause or a manual gate: it waits for a resume
            started = parse_rfc3339(summary.started_at) if summary.started_at else None
            if rec is None and started is not None and utc_now() - started < GRACE:
                self.grace[summary.id] = (
                    time.monotonic() + (GRACE - (utc_now() - started)).total_seconds()
                )
                report["grace"].append(summary.id)
                continue
            outcome = await self._resume_or_block(summary.id, rec)
            report[outcome].append(summary.id)
        for entry in self._assigned_entries():
            wf = entry.workflow_id
            if wf in handled or (wf and wf in self.pm.active):
                continue
            run, status = self._run_status(wf) if wf else (None, None)
            if run is not None and status in _TERMINAL:
                with contextlib.suppress(AnimusError):
                    self.hub.queue.complete(
                        entry.entry_id,
                        {"completed": "completed", "cancelled": "cancelled"}.get(
                            status or "", "failed"
                        ),
                        workflow_id=wf,
                    )
                report["completed_entries"].append(entry.entry_id)
                continue
            rec = read_runner_record(self.paths, wf) if wf else None
            if rec is not None and rec.alive():
                await self.pm.attach(rec)
                report["attached"].append(wf or "")
                continue
            assigned = parse_rfc3339(entry.assigned_at) if entry.assigned_at else None
            if wf and run is None and assigned is not None and utc_now() - assigned < LAUNCH_GRACE:
                left = (LAUNCH_GRACE - (utc_now() - assigned)).total_seconds()
                self.grace[wf] = time.monotonic() + left
                self.launch_grace[wf] = entry.entry_id
                report["grace"].append(wf)
                continue
            # Never started (or died before recording the run): safe to dispatch again.
            with contextlib.suppress(AnimusError):
                self.hub.queue.release_pending(
                    entry.entry_id, reason="recovered: runner never started"
                )
            report["released"].append(entry.entry_id)
        report["healed_tasks"] = self._heal_tasks()
        self.events.emit("recovery", {k: v for k, v in report.items() if v})
        return report

    def _runner_from_run(self, workflow_id: str) -> RunnerRecord | None:
        """The runner a run records itself (one started outside this daemon, e.g. by
        ``animus workflow run``): it is followed, never started a second time."""
        from animus_protocol.subjects import subject_key
        from animus_workflow_runner.control import runner_state

        run, _status = self._run_status(workflow_id)
        if run is None:
            return None
        state = runner_state(run)
        pid = state.get("pid")
        if not isinstance(pid, int):
            return None
        start = state.get("process_start_time")
        key = subject_key(run.subject)
        # A daemon killed between forking a runner and writing runner.json leaves the run's
        # queue entry assigned to it: keep that link, or the entry is never completed.
        entry = self.hub.queue.entry_for_subject(key) if key else None
        entry_id = (
            entry.entry_id
            if entry is not None
            and entry.status == "assigned"
            and entry.workflow_id in (None, workflow_id)
            else None
        )
        return RunnerRecord(
            workflow_id=workflow_id,
            pid=pid,
            start_time=str(start) if start is not None else None,
            subject=subject_arg(run.subject),
            subject_key=key,
            entry_id=entry_id,
            workflow_ref=run.workflow_ref,
        )

    def _assigned_entries(self) -> list[Any]:
        page = self.hub.queue.list(status="assigned", limit=1000)
        return list(page.entries)

    def _heal_tasks(self) -> list[str]:
        """In-progress tasks with no active run and no queued entry go back to ready."""
        from animus_core.tasks import TaskFilter

        healed: list[str] = []
        if not self.config.reconcile_stale:
            return healed
        busy = self.hub.runs.active_subjects()
        page = self.hub.tasks.list(TaskFilter(status=("in-progress",), limit=500))
        for task in page.items:
            if task.id in busy or self.hub.queue.entry_for_subject(task.id) is not None:
                continue
            with contextlib.suppress(AnimusError):
                self.hub.tasks.set_status(task.id, "ready", force=True, by="daemon")
                healed.append(task.id)
        if healed:
            self.events.emit("reconciliation", {"healed_to_ready": healed})
        return healed

    async def _resume_or_block(self, workflow_id: str, rec: Any) -> str:
        run, _status = self._run_status(workflow_id)
        if run is None:
            return "blocked"
        entry = (
            self.hub.queue.entry_for_subject(rec.subject_key) if rec and rec.subject_key else None
        )
        if entry is None:
            from animus_protocol.subjects import subject_key

            entry = self.hub.queue.entry_for_subject(subject_key(run.subject))
        if self.config.resume_interrupted:
            await self.pm.spawn(
                workflow_id=workflow_id,
                subject=subject_arg(run.subject),
                subject_key=entry.subject_key if entry else None,
                entry_id=entry.entry_id if entry else None,
                workflow_ref=run.workflow_ref,
                input=run.input,
                vars=dict(run.vars),
                resume=True,
                attempts=(rec.attempts if rec else 0),
            )
            self.events.emit("recovery", {"action": "resume", "workflow_id": workflow_id})
            return "resumed"
        reason = (
            f"runner of {workflow_id} is gone and resume_interrupted is off; "
            f"resume it with 'animus workflow resume {workflow_id}'"
        )
        run.status = WorkflowStatus.PAUSED
        run.failure_reason = reason
        self.hub.runs.save(run)
        if run.task_id:
            with contextlib.suppress(AnimusError):
                self.hub.tasks.block(run.task_id, reason, by="daemon")
        self.events.emit(
            "recovery", {"action": "blocked", "workflow_id": workflow_id, "reason": reason}
        )
        return "blocked"

    def _complete_entry_of(
        self, workflow_id: str, run: Any, status: str | None, entry_id: str | None
    ) -> None:
        from animus_protocol.subjects import subject_key

        if entry_id is None:
            entry = self.hub.queue.entry_for_subject(subject_key(run.subject))
            if entry is None or entry.status != "assigned" or entry.workflow_id != workflow_id:
                return
            entry_id = entry.entry_id
        with contextlib.suppress(AnimusError):
            self.hub.queue.complete(
                entry_id,
                {"completed": "completed", "cancelled": "cancelled"}.get(status or "", "failed"),
                workflow_id=workflow_id,
            )
        self.events.emit(
            "recovery",
            {"action": "completed-entry", "workflow_id": workflow_id, "entry_id": entry_id},
        )

    async def _check_grace(self) -> None:
        now = time.monotonic()
        for workflow_id, deadline in list(self.grace.items()):
            rec = read_runner_record(self.paths, workflow_id)
            if rec is None or not rec.alive():
                rec = self._runner_from_run(workflow_id) or rec
            if rec is not None and rec.alive():
                self.grace.pop(workflow_id)
                self.launch_grace.pop(workflow_id, None)
                await self.pm.attach(rec)
                continue
            run, status = self._run_status(workflow_id)
            entry_id = self.launch_grace.get(workflow_id)
            if run is None and entry_id is not None:
                if now >= deadline:  # no runner ever recorded it: dispatch the entry again
                    self.grace.pop(workflow_id)
                    self.launch_grace.pop(workflow_id)
                    with contextlib.suppress(AnimusError):
                        self.hub.queue.release_pending(
                            entry_id, reason="recovered: runner never started"
                        )
                    self.events.emit("recovery", {"action": "released", "entry_id": entry_id})
                continue
            self.launch_grace.pop(workflow_id, None)
            if status not in _ACTIVE:
                # It ended while nobody followed it (its runner was never attached): settle
                # the queue entry it held, as recovery does for runs that ended offline.
                self.grace.pop(workflow_id)
                if run is not None and status in _TERMINAL:
                    self._complete_entry_of(workflow_id, run, status, entry_id)
                continue
            if now >= deadline:
                self.grace.pop(workflow_id)
                await self._resume_or_block(workflow_id, rec)
