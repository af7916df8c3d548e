"""What each control method does: calls into the service hub and the running daemon."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from animus_daemon_runtime import __version__
from animus_daemon_runtime._control_streams import ControlStreams
from animus_protocol.control import (
    CONTROL_METHODS,
    STREAM_NOTIFICATIONS,
    parse_control_params,
)
from animus_protocol.envelope import (
    AnimusError,
    InvalidInputError,
    NotFoundError,
    NotSupportedError,
)
from animus_protocol.subjects import KIND_TASK, SubjectDispatch, SubjectRef
from animus_protocol.timeutil import utc_now_str

if TYPE_CHECKING:
    from animus_daemon_runtime.control_server import Connection, ControlServer
    from animus_daemon_runtime.daemon import Daemon

__all__ = ["ControlMethods"]

# How long a pause or cancel waits for a just-dispatched runner to record its run.
_RECORD_WAIT = 10.0

_QUEUE_TO_WIRE = {
    "pending": "ready",
    "held": "held",
    "assigned": "in-flight",
    "completed": "done",
    "failed": "done",
    "cancelled": "done",
    "dropped": "dropped",
}
_WIRE_TO_QUEUE = {
    "ready": ["pending"],
    "held": ["held"],
    "in-flight": ["assigned"],
    "done": ["completed", "failed", "cancelled"],
    "dropped": ["dropped"],
}
Handler = Callable[[Any, "Connection", Any], Awaitable[Any]]


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        to_wire = getattr(value, "to_wire", None)
        return (
            to_wire() if to_wire is not None else value.model_dump(mode="json", exclude_none=True)
        )
    return value


class ControlMethods:
    def __init__(self, daemon: Daemon, server: ControlServer) -> None:
        self.daemon = daemon
        self.server = server
        self.hub = daemon.hub
        self._plugins_cache: tuple[float, Any] | None = None
        self.streams = ControlStreams(daemon)

    async def call(self, conn: Connection, ident: Any, method: str, params: Any) -> Any:
        if method == "trigger/fire":
            return self._trigger_fire(params)
        if method == "daemon/stop" and isinstance(params, dict):
            # An extension of the empty params: the drain bound for this stop.
            timeout = params.get("timeout_secs")
            if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout >= 0:
                self.daemon.stop_timeout = float(timeout)
        parsed = parse_control_params(method, params)
        if method in STREAM_NOTIFICATIONS:
            from animus_daemon_runtime.control_server import STREAM_STARTED

            await self.streams.open(conn, ident, method, parsed)
            return STREAM_STARTED
        name = "_" + method.replace("/", "_")
        handler = getattr(self, name, None)
        if handler is None:
            raise NotSupportedError(
                f"{method} is not served by the daemon",
                hint="use the animus command for it (it runs in process)",
            )
        return _dump(await handler(parsed))

    async def _service_call(self, params: Any) -> dict[str, Any]:
        from animus_daemon_runtime._control_services import service_call

        return await service_call(self.daemon, params)

    # -- daemon/* ------------------------------------------------------------------------------

    async def _daemon_status(self, _p: Any) -> dict[str, Any]:
        d = self.daemon
        return {
            "running": True,
            "pid": os.getpid(),
            "uptime_seconds": round(d.metrics.uptime_seconds, 3),
            "version": __version__,
            "project_root": str(d.project_root),
            "log_path": str(d.paths.daemon_log),
            "status": d.status,
            "runtime_paused": d.paused,
            "capabilities": {"methods": sorted([*CONTROL_METHODS, "trigger/fire"])},
            "pool_size": d.pool_size,
            "active_runs": sorted(d.pm.active),
            "paused_at": d.paused_at,
            "wakes": d.wakes,
            "last_wake_reasons": d.last_wake_reasons[-10:],
            "subscribers": {
                topic: d.bus.subscriber_count(topic)
                for topic in ("daemon/event", "workflow/event", "subject/changed", "daemon/log")
            },
            "started_at": d.started_at,
        }

    async def _daemon_health(self, _p: Any) -> dict[str, Any]:
        d = self.daemon
        reasons: list[str] = []
        try:
            from animus_daemon_runtime.runner_process import resolve_runner_command

            resolve_runner_command(d.env)
        except AnimusError as exc:
            reasons.append(exc.message)
        reasons += [e for e in (d.config_error, d.workflow_config_error, d.last_error) if e]
        forkserver = d.pm.forkserver
        if forkserver is not None and forkserver.disabled_reason:
            # Runs still run (spawned), each paying the runner's start-up again.
            reasons.append(f"runner forkserver: {forkserver.disabled_reason}")
        plugins = await self._plugin_rows()
        for row in plugins:
            if row["status"] != "healthy":
                reasons.append(f"plugin {row['name']}: {row.get('last_error') or row['status']}")
        try:
            stats = self.hub.queue.stats()
            queued = stats.pending + stats.held
        except AnimusError:
            queued = None
        status = "healthy" if not reasons else "degraded"
        return {
            "status": status,
            "plugins": plugins,
            "last_error": reasons[0] if reasons else None,
            "healthy": not reasons,
            "degraded_reasons": reasons,
            "runtime_paused": d.paused,
            "paused_at": d.paused_at,
            "active_agents": len(d.pm.active),
            "pool_size": d.pool_size,
            "pool_utilization_percent": round(100.0 * len(d.pm.active) / max(d.pool_size, 1), 1),
            "queued_tasks": queued,
            "daemon_pid": os.getpid(),
            "process_alive": True,
            "total_agents_spawned": d.pm.spawned_total,
            "total_agents_completed": d.completed_total,
            "total_agents_failed": d.failed_total,
            "project_root": str(d.project_root),
        }

    async def _plugin_rows(self) -> list[dict[str, Any]]:
        """One row per discovered plugin (preflight problems make it ``degraded``), per
        broken candidate (``unhealthy``), and the state of every plugin the daemon keeps
        running (notifiers, trigger plugins)."""
        found = await self._discovery()
        if found is None:
            return []
        from animus_plugin_host import preflight

        problems: dict[str, list[str]] = {}
        for issue in preflight(found, env=self.daemon.env).issues:
            name = issue.role.removeprefix("env:")
            problems.setdefault(name if name in found.plugins else "(project)", []).append(
                f"{issue.problem} (fix: {issue.fix})"
            )
        rows: list[dict[str, Any]] = []
        for plugin in found.plugins.values():
            row: dict[str, Any] = {
                "name": plugin.name,
                "kind": plugin.manifest.plugin_kind,
                "status": "degraded" if plugin.name in problems else "healthy",
            }
            if plugin.name in problems:
                row["last_error"] = "; ".join(problems[plugin.name])
            rows.append(row)
        for problem in problems.get("(project)", []):
            rows.append(
                {
                    "name": "(project)",
                    "kind": "preflight",
                    "status": "degraded",
                    "last_error": problem,
                }
            )
        for warning in found.warnings:
            rows.append(
                {
                    "name": str(getattr(warning, "candidate", "?")),
                    "kind": "unknown",
                    "status": "unhealthy",
                    "last_error": str(getattr(warning, "message", warning)),
                }
            )
        supervised = list(self.daemon.supervised_plugins().items())
        probes = await asyncio.gather(*(self._probe(sup) for _name, sup in supervised))
        for (name, sup), probe in zip(supervised, probes, strict=True):
            state = str(getattr(sup, "state", "idle"))
            row = {
                "name": name,
                "kind": "supervised",
                "status": {"exhausted": "down", "restarting": "degraded"}.get(state, "healthy"),
                "last_error": getattr(sup, "exhausted_reason", None),
            }
            row.update({k: v for k, v in probe.items() if v is not None})
            rows.append(row)
        return rows

    @staticmethod
    async def _probe(sup: Any) -> dict[str, Any]:
        """``health/check`` on a live supervised process (3 s deadline; never starts one)."""
        proc = getattr(sup, "current", None)
        if proc is None:
            return {}
        try:
            result = await proc.call("health/check", {}, 3.0)
        except Exception as exc:
            return {"status": "unhealthy", "last_error": f"health/check failed: {exc}"}
        if not isinstance(result, dict):
            return {}
        return {
            "status": str(result.get("status") or "healthy"),
            "uptime_ms": result.get("uptime_ms"),
            "last_error": result.get("last_error"),
        }

    async def _discovery(self) -> Any:
        now = time.monotonic()
        if self._plugins_cache is not None and now - self._plugins_cache[0] < 30:
            return self._plugins_cache[1]
        from animus_plugin_host import discover

        try:
            found = await asyncio.wait_for(
                asyncio.to_thread(discover, self.daemon.project_root, env=self.daemon.env), 10
            )
        except (TimeoutError, OSError, AnimusError):
            return None
        self._plugins_cache = (now, found)
        return found

    async def _daemon_start(self, _p: Any) -> dict[str, Any]:
        return {}  # it is running: that is what start asks for

    async def _daemon_stop(self, _p: Any) -> dict[str, Any]:
        asyncio.get_running_loop().call_later(0.05, self.daemon.request_stop)
        return {}

    async def _daemon_restart(self, _p: Any) -> dict[str, Any]:
        raise NotSupportedError(
            "daemon/restart over the socket cannot outlive the daemon it stops",
            hint="run 'animus daemon restart' (stop, then a detached start)",
        )

    async def _daemon_pause(self, _p: Any) -> dict[str, Any]:
        return self.daemon.set_paused(True)

    async def _daemon_resume(self, _p: Any) -> dict[str, Any]:
        return self.daemon.set_paused(False)

    async def _daemon_nudge(self, params: Any) -> dict[str, Any]:
        self.daemon.nudge(params.reason or "nudge")
        return {}

    async def _daemon_metrics(self, _p: Any) -> dict[str, Any]:
        self.daemon._update_gauges()
        return self.daemon.metrics.snapshot()

    async def _daemon_agents(self, _p: Any) -> dict[str, Any]:
        agents = []
        for handle in self.daemon.pm.active.values():
            rec = handle.record
            agents.append(
                {
                    "session_id": f"runner:{rec.workflow_id}",
                    "provider": "animus-workflow-runner",
                    "model": rec.workflow_ref or "",
                    "workflow_id": rec.workflow_id,
                    "started_at": rec.spawned_at,
                }
            )
        return {"agents": agents}

    # -- agent/* -------------------------------------------------------------------------------

    async def _agent_run(self, _p: Any) -> Any:
        raise NotSupportedError(
            "the daemon runs agents only inside workflow runs",
            hint="use 'animus agent run' for a one-off session",
        )

    def _runner_session(self, session_id: str) -> Any:
        wf = session_id.removeprefix("runner:")
        handle = self.daemon.pm.active.get(wf)
        if handle is None:
            raise NotFoundError(
                f"no live agent session {session_id!r}",
                details={"session_id": session_id},
                hint="list them with daemon/agents",
            )
        return handle

    async def _agent_status(self, params: Any) -> dict[str, Any]:
        handle = self._runner_session(params.id)
        return {
            "session_id": params.id,
            "status": "running",
            "provider": "animus-workflow-runner",
            "model": handle.record.workflow_ref or "",
            "started_at": handle.record.spawned_at,
        }

    async def _agent_cancel(self, params: Any) -> dict[str, Any]:
        # A runner session is its workflow run: cancelling it is workflow/cancel (the request
        # the runner polls, and the signal), not only a note on the runner record.
        handle = self._runner_session(params.session_id)
        return await self._request(handle.workflow_id, "cancel")

    # -- workflow/* ----------------------------------------------------------------------------

    @staticmethod
    def _summary(run: Any) -> dict[str, Any]:
        from animus_protocol.control import ControlWorkflowStatus

        return {
            "id": run.id,
            "definition": run.workflow_ref or "",
            "status": ControlWorkflowStatus.from_workflow_status(run.status).value,
            "subject_id": run.subject_key,
            "started_at": run.started_at,
            "finished_at": run.completed_at,
        }

    async def _workflow_list(self, params: Any) -> dict[str, Any]:
        offset = int(params.cursor) if params.cursor and params.cursor.isdigit() else 0
        limit = params.limit or 50
        status = params.status.value if params.status else None
        page = self.hub.runs.list(status, limit=limit, offset=offset)
        nxt = offset + len(page.runs)
        return {
            "runs": [self._summary(r) for r in page.runs],
            "next_cursor": str(nxt) if nxt < page.total else None,
        }

    async def _workflow_get(self, params: Any) -> dict[str, Any]:
        run = self.hub.runs.get(params.id)
        summary = self.hub.runs.describe(params.id)
        data = self._summary(summary)
        data["detail"] = json.loads(run.to_json())
        return data

    async def _enqueue_and_dispatch(self, dispatch: SubjectDispatch) -> dict[str, Any]:
        entry = self.hub.queue.enqueue(dispatch)
        await self.daemon.tick()
        entry = self.hub.queue.get(entry.entry_id)
        started = entry.status == "assigned" and entry.workflow_id
        return {
            "workflow_id": entry.workflow_id if started else entry.entry_id,
            "status": "running" if started else "pending",
            "started_at": entry.assigned_at or entry.enqueued_at,
        }

    async def _workflow_run(self, params: Any) -> dict[str, Any]:
        ref = params.definition or self.hub.queue.default_workflow_ref()
        self.hub.tasks.get(params.task_id)
        vars_ = {str(k): str(v) for k, v in ((params.params or {}).get("vars") or {}).items()}
        dispatch = SubjectDispatch(
            subject=SubjectRef(kind=KIND_TASK, id=params.task_id),
            workflow_ref=ref,
            vars=vars_,
            trigger_source="manual",
        )
        return await self._enqueue_and_dispatch(dispatch)

    async def _workflow_execute(self, params: Any) -> dict[str, Any]:
        input_ = (params.params or {}).get("input")
        if params.subject_id:
            kind = KIND_TASK if params.subject_id.upper().startswith("TASK-") else "custom"
            ref = (
                SubjectRef(kind=kind, id=params.subject_id)
                if kind == KIND_TASK
                else SubjectRef(kind="custom", title=params.subject_id)
            )
        else:
            ref = SubjectRef(kind="custom", title=f"execute {params.definition} {utc_now_str()}")
        dispatch = SubjectDispatch(
            subject=ref, workflow_ref=params.definition, input=input_, trigger_source="manual"
        )
        return await self._enqueue_and_dispatch(dispatch)

    async def _workflow_pause(self, params: Any) -> dict[str, Any]:
        return await self._request(params.id, "pause")

    async def _workflow_resume(self, params: Any) -> dict[str, Any]:
        await self.daemon.resume_workflow(params.id)
        return {}

    async def _workflow_cancel(self, params: Any) -> dict[str, Any]:
        return await self._request(params.id, "cancel")

    async def _request(self, workflow_id: str, action: str) -> dict[str, Any]:
        """Write the request into the run (the runner acts on it at its next boundary); a
        run no live runner owns is settled here at once."""
        from animus_workflow_runner.control import request_action, runner_alive, settle_offline

        await self._await_recorded(workflow_id)
        run = request_action(self.hub, workflow_id, action, by="daemon")
        live = workflow_id in self.daemon.pm.active or runner_alive(run)
        if live:
            await self.daemon.stop_workflow(workflow_id, action)
        else:
            settle_offline(self.hub, workflow_id, action)
            if action == "cancel":
                from animus_protocol.subjects import subject_key

                entry = self.hub.queue.entry_for_subject(subject_key(run.subject))
                if entry is not None and entry.status == "assigned":
                    with contextlib.suppress(AnimusError):
                        self.hub.queue.complete(entry.entry_id, "cancelled", workflow_id=run.id)
        self.daemon.nudge(action)
        return {}

    async def _await_recorded(self, workflow_id: str, timeout: float = _RECORD_WAIT) -> None:  # noqa: ASYNC109 - a bound on a runner's first write
        """workflow/run answers with the id of a runner that may not have written its run
        yet; a pause or cancel for it waits (bounded) for that record instead of answering
        not_found for a run that is starting."""
        if workflow_id not in self.daemon.pm.active:
            return
        deadline = asyncio.get_running_loop().time() + timeout
        while workflow_id in self.daemon.pm.active:
            try:
                self.hub.runs.get(workflow_id)
                return
            except NotFoundError:
                if asyncio.get_running_loop().time() >= deadline:
                    return
                await asyncio.sleep(0.02)

    # -- queue/* -------------------------------------------------------------------------------

    @staticmethod
    def _entry(entry: Any) -> dict[str, Any]:
        return {
            "id": entry.entry_id,
            "subject_id": entry.subject_key,
            "status": _QUEUE_TO_WIRE.get(entry.status, "ready"),
            "priority": entry.priority or "medium",
            "enqueued_at": entry.enqueued_at,
            "hold_reason": entry.hold_reason,
            "workflow_ref": entry.workflow_ref,
        }

    async def _queue_list(self, params: Any) -> dict[str, Any]:
        offset = int(params.cursor) if params.cursor and params.cursor.isdigit() else 0
        limit = params.limit or 100
        statuses = _WIRE_TO_QUEUE[params.status.value] if params.status else None
        page = self.hub.queue.list(statuses, limit=limit, offset=offset)
        nxt = offset + len(page.entries)
        return {
            "entries": [self._entry(e) for e in page.entries],
            "next_cursor": str(nxt) if nxt < page.total else None,
        }

    async def _queue_enqueue(self, params: Any) -> dict[str, Any]:
        if params.task_id:
            entry = self.hub.queue.enqueue_subject(
                "task",
                params.task_id,
                workflow_ref=params.workflow_ref,
                priority=params.priority,
                input=params.input,
                vars=params.vars,
            )
        else:
            dispatch = SubjectDispatch(
                subject=params.subject,
                workflow_ref=params.workflow_ref or self.hub.queue.default_workflow_ref(),
                input=params.input,
                vars=dict(params.vars or {}),
                priority=params.priority,
                trigger_source="manual",
            )
            entry = self.hub.queue.enqueue(dispatch)
        self.daemon.nudge("enqueue")
        return self._entry(entry)

    async def _queue_drop(self, params: Any) -> dict[str, Any]:
        self.hub.queue.drop([params.id])
        return {}

    async def _queue_hold(self, params: Any) -> dict[str, Any]:
        self.hub.queue.hold([params.id], reason=params.reason)
        return {}

    async def _queue_release(self, params: Any) -> dict[str, Any]:
        self.hub.queue.release([params.id])
        self.daemon.nudge("release")
        return {}

    async def _queue_reorder(self, params: Any) -> dict[str, Any]:
        if params.position.value != "front":
            raise NotSupportedError(
                f"queue/reorder position {params.position.value!r} is not supported; only 'front'",
                hint="move subjects to the front in the order you want them",
            )
        subjects = list(params.subject_ids or [])
        if params.id:
            subjects.insert(0, self.hub.queue.get(params.id).subject_key)
        self.hub.queue.reorder(subjects)
        return {}

    async def _queue_stats(self, _p: Any) -> dict[str, Any]:
        s = self.hub.queue.stats()
        return {
            "ready": s.pending,
            "held": s.held,
            "in_flight": s.assigned,
            "done_recent": s.completed + s.failed + s.cancelled,
            "dropped_recent": s.dropped,
        }

    # -- subject/* -----------------------------------------------------------------------------

    def _backend_for_id(self, subject_id: str) -> Any:
        upper = subject_id.upper()
        if upper.startswith("TASK-"):
            return self.hub.subjects.backend("task")
        if upper.startswith("REQ-"):
            return self.hub.subjects.backend("requirement")
        return self.hub.subjects.backend(self.hub.subjects.resolve_kind(None))

    def _changed(self, change_kind: str, subject: Any) -> None:
        # The change is in the history table already; the follower publishes it (once).
        del change_kind, subject
        self.daemon.subject_watch.poke()

    async def _subject_list(self, params: Any) -> dict[str, Any]:
        from animus_core._subject_model import SubjectQuery

        flt = params.filter
        kind = flt.kind[0] if flt.kind else None
        backend = self.hub.subjects.backend(self.hub.subjects.resolve_kind(kind))
        offset = int(flt.cursor) if flt.cursor and flt.cursor.isdigit() else 0
        query = SubjectQuery(
            status=tuple(str(getattr(s, "value", s)) for s in (flt.status or [])),
            labels=tuple(flt.labels_all or []),
            limit=flt.limit or 50,
            offset=offset,
        )
        page = backend.list(query)
        nxt = offset + len(page.items)
        return {
            "subjects": [_dump(s) for s in page.items],
            "next_cursor": str(nxt) if nxt < page.total else None,
            "fetched_at": utc_now_str(),
        }

    async def _subject_get(self, params: Any) -> Any:
        return self._backend_for_id(params.id).get(params.id)

    async def _subject_create(self, params: Any) -> Any:
        subject = self.hub.subjects.backend(self.hub.subjects.resolve_kind(params.kind)).create(
            params
        )
        self._changed("created", subject)
        self.daemon.nudge("subject-created")
        return subject

    async def _subject_update(self, params: Any) -> Any:
        subject = self._backend_for_id(params.id).update(params.id, params.patch)
        self._changed("updated", subject)
        self.daemon.nudge("subject-updated")
        return subject

    async def _subject_next(self, params: Any) -> dict[str, Any]:
        subject = self.hub.subjects.backend(self.hub.subjects.resolve_kind(params.kind)).next()
        return {"subject": _dump(subject) if subject is not None else None}

    async def _subject_status(self, params: Any) -> Any:
        subject = self._backend_for_id(params.id).set_status(params.id, params.status)
        self._changed("status-changed", subject)
        self.daemon.nudge("subject-status")
        return subject

    # -- plugin/* ------------------------------------------------------------------------------

    async def _plugin_list(self, params: Any) -> dict[str, Any]:
        found = await self._discovery()
        if found is None:
            return {"plugins": []}
        plugins = [
            self._plugin_row(p)
            for p in found.plugins.values()
            if params.kind is None or p.serves_kind(params.kind)
        ]
        result: dict[str, Any] = {"plugins": plugins}
        if params.include_warnings:
            result["warnings"] = [
                {
                    "plugin": str(getattr(w, "candidate", "?")),
                    "message": str(getattr(w, "message", w)),
                }
                for w in found.warnings
            ]
        return result

    @staticmethod
    def _plugin_row(plugin: Any) -> dict[str, Any]:
        return {
            "name": plugin.name,
            "version": plugin.version,
            "kind": plugin.manifest.plugin_kind,
            "source": plugin.source,
            "signature_verified": False,
            "description": plugin.manifest.description,
            "binary_path": str(plugin.executable),
        }

    def _find_plugin(self, found: Any, name: str) -> Any:
        plugin = found.plugins.get(name) if found is not None else None
        if plugin is None:
            raise NotFoundError(
                f"plugin {name!r} not found",
                details={"plugin": name},
                hint="list plugins with 'animus plugin list'",
            )
        return plugin

    async def _plugin_info(self, params: Any) -> dict[str, Any]:
        return self._plugin_row(self._find_plugin(await self._discovery(), params.name))

    async def _plugin_ping(self, params: Any) -> dict[str, Any]:
        plugin = self._find_plugin(await self._discovery(), params.name)
        from animus_plugin_host import PluginHost

        host = PluginHost(self.daemon.project_root, env=self.daemon.env)
        try:
            proc = await host.start(plugin)
        except Exception as exc:
            return {"ok": False, "error": str(exc)}
        try:
            seconds = await proc.ping(timeout=5.0)
            return {"ok": True, "latency_ms": round(seconds * 1000, 3)}
        except Exception as exc:
            return {"ok": False, "error": str(exc)}
        finally:
            with contextlib.suppress(Exception):
                await proc.shutdown()

    # -- project/* -----------------------------------------------------------------------------

    async def _project_status(self, _p: Any) -> dict[str, Any]:
        try:
            workflows = len(self.hub.load_config().config.workflows)
        except AnimusError:
            workflows = 0
        stats = self.hub.queue.stats()
        return {
            "project_root": str(self.daemon.project_root),
            "repo_scope": self.daemon.paths.scope,
            "workflow_definition_count": workflows,
            "task_count": sum(self.hub.tasks.count_by_status().values()),
            "active_runs": len(self.hub.runs.active()),
            "queue_size": stats.total,
        }

    # -- extensions ----------------------------------------------------------------------------

    def _trigger_fire(self, params: Any) -> dict[str, Any]:
        if (
            not isinstance(params, dict)
            or not isinstance(params.get("id"), str)
            or not params["id"]
        ):
            raise InvalidInputError(
                "trigger/fire needs {id: <trigger id>, payload?: any}",
                hint="e.g. animus daemon trigger-fire on-push --payload '{}'",
            )
        return self.daemon.fire_webhook(params["id"], params.get("payload"))
