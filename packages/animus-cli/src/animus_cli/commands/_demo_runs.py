"""Running the demo's tasks: through a real daemon (default) or in this process.

Both drivers report every workflow event to one callback as it happens; what they leave
behind (runs, events files, the queue, ``main``) is the same, so the summary is built from
the durable state afterwards, never from the live stream.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from animus_cli.commands._demo_project import DEMO_WORKFLOW
from animus_protocol.envelope import UnavailableError

if TYPE_CHECKING:
    from animus_daemon_runtime.client import ControlClient
    from animus_daemon_runtime.lifecycle import DaemonPidInfo
    from animus_protocol.paths import ScopePaths

__all__ = [
    "DaemonReport",
    "EventSink",
    "leftover_processes",
    "reap_leftovers",
    "run_in_process",
    "run_with_daemon",
]

EventSink = Callable[[dict[str, Any]], None]

# The daemon's pool for the demo: enough to run the independent tasks side by side on a
# small machine without starting more Python processes than it has cores for.
_POOL_SIZE = 3
_STOP_TIMEOUT = 10.0
_POLL_SECS = 0.5
# A task whose dependency ended without being done stays queued forever; the demo stops
# waiting once that holds for this many consecutive polls with nothing running.
_STUCK_POLLS = 2


def run_in_process(
    project: Path,
    env: Mapping[str, str],
    task_ids: Sequence[str],
    on_event: EventSink,
    *,
    say: Callable[[str], None],
) -> None:
    """Queue every task, then lease and run them one at a time in this process (the queue
    hands out a task only once the tasks it depends on are done)."""
    from animus_core.hub import ServiceHub
    from animus_workflow_runner.engine import ExecuteRequest, execute, new_run_id

    with ServiceHub(project, env=env) as hub:
        for task_id in reversed(task_ids):  # queued in reverse: order comes from dependencies
            hub.queue.enqueue_subject(
                "task", task_id, workflow_ref=DEMO_WORKFLOW, trigger_source="demo"
            )
        say(f"queued {', '.join(reversed(task_ids))}; running them here, one at a time")
        for _ in range(len(task_ids)):
            run_id = new_run_id()
            leased = hub.queue.lease(1, workflow_ids=[run_id])
            if not leased:
                return  # what is left waits on a task that did not finish
            entry = leased[0]
            try:
                outcome = execute(
                    ExecuteRequest(
                        project_root=project,
                        task_id=entry.subject_id,
                        workflow_ref=entry.workflow_ref or DEMO_WORKFLOW,
                        env=env,
                        run_id=run_id,
                        listener=on_event,
                    ),
                    hub=hub,
                )
            finally:
                final = "completed"
                with contextlib.suppress(Exception):
                    final = (
                        "completed"
                        if hub.runs.get(run_id).status.value == "completed"
                        else "failed"
                    )
                with contextlib.suppress(Exception):
                    hub.queue.complete(entry.entry_id, final, workflow_id=run_id)
            if outcome.status != "completed":
                return


@dataclass
class DaemonReport:
    pid: int | None = None
    log: str | None = None
    stopped: bool = False
    stop_seconds: float | None = None
    entries: dict[str, str] = field(default_factory=dict)  # task id -> queue entry id


def run_with_daemon(
    project: Path,
    env: Mapping[str, str],
    task_ids: Sequence[str],
    on_event: EventSink,
    *,
    depends_on: Mapping[str, Sequence[str]],
    timeout: float,
    report: DaemonReport,
    say: Callable[[str], None],
) -> None:
    """``animus daemon start`` for the demo project, watch ``workflow/events``, enqueue every
    task over the control socket, wait until the queue has nothing left it can run, stop."""
    from animus_daemon_runtime.client import ControlClient
    from animus_daemon_runtime.lifecycle import start_detached
    from animus_protocol.paths import ScopePaths

    paths = ScopePaths.for_project(project, env)
    info = start_detached(project, paths, ["--pool-size", str(_POOL_SIZE)], env=dict(env))
    report.pid, report.log = info.pid, str(paths.daemon_log)
    say(f"daemon started (pid {info.pid}, pool {_POOL_SIZE}, log {paths.daemon_log})")
    try:
        with (
            ControlClient(paths.control_sock, timeout=10.0) as watch,
            ControlClient(paths.control_sock, timeout=10.0) as calls,
        ):
            stream_id = watch.request("workflow/events", {})
            reply = watch.wait_reply(stream_id)
            if "error" in reply:
                raise UnavailableError(f"the daemon refused workflow/events: {reply['error']}")
            for task_id in reversed(task_ids):
                entry = calls.call(
                    "queue/enqueue", {"task_id": task_id, "workflow_ref": DEMO_WORKFLOW}
                )
                report.entries[task_id] = str(entry["id"])
            say(f"queued {', '.join(reversed(task_ids))} through the control socket")
            _watch(
                watch,
                calls,
                stream_id,
                report=report,
                on_event=on_event,
                depends_on=depends_on,
                timeout=timeout,
            )
    finally:
        _stop_daemon(paths, info, report)
        say(
            f"daemon stopped (pid {info.pid})"
            if report.stopped
            else f"the daemon (pid {info.pid}) did not stop; see {paths.daemon_log}"
        )


def _watch(
    watch: ControlClient,
    calls: ControlClient,
    stream_id: int,
    *,
    report: DaemonReport,
    on_event: EventSink,
    depends_on: Mapping[str, Sequence[str]],
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    next_poll = time.monotonic() + _POLL_SECS
    stuck = 0
    task_of = {entry: task for task, entry in report.entries.items()}
    while True:
        now = time.monotonic()
        if now >= deadline:
            raise UnavailableError(
                f"the demo's runs did not finish within {timeout:g} s",
                details={"daemon_log": report.log},
                hint="see the daemon log; a slower machine may need a larger --timeout",
            )
        try:
            message = watch.read_message(max(0.05, min(_POLL_SECS, next_poll - now)))
        except TimeoutError:
            message = {}
        if message is None:
            raise UnavailableError(
                "the daemon closed the event stream before the runs finished",
                details={"daemon_log": report.log},
                hint=f"see {report.log}",
            )
        params = message.get("params")
        if isinstance(params, dict) and params.get("id") == stream_id:
            if message.get("method") == "subscription/closed":
                raise UnavailableError(
                    f"the daemon closed the event stream: {params.get('reason')}",
                    details={"daemon_log": report.log},
                )
            data = params.get("data")
            if isinstance(data, dict):
                on_event(data)
        if time.monotonic() < next_poll:
            continue
        next_poll = time.monotonic() + _POLL_SECS
        # queue/list shows the entries still queued; an entry missing from it is finished.
        queued = {
            task_of[e["id"]]: e["status"]
            for e in calls.call("queue/list", {"limit": 500})["entries"]
            if e["id"] in task_of and e["status"] != "done"
        }
        if calls.call("daemon/agents")["agents"] or "in-flight" in queued.values():
            stuck = 0
            continue
        if not queued:
            return
        if all(_waits_on_a_failure(calls, depends_on.get(t, ()), queued) for t in queued):
            stuck += 1
            if stuck >= _STUCK_POLLS:
                return  # the summary names the task that failed and what waits on it
        else:
            stuck = 0


def _waits_on_a_failure(
    calls: ControlClient, dependencies: Sequence[str], queued: Mapping[str, str]
) -> bool:
    """True when a dependency's run is over (its entry left the queue) but the task is not
    done: the queue will never hand this task out."""
    for dependency in dependencies:
        if dependency in queued:
            continue
        task = calls.call("subject/get", {"id": dependency})
        if str(task.get("status")) != "done":
            return True
    return False


def _stop_daemon(paths: ScopePaths, info: DaemonPidInfo, report: DaemonReport) -> None:
    """``animus daemon stop``: ask over the socket, else SIGTERM; SIGKILL as the last resort."""
    from animus_daemon_runtime.client import ControlClient
    from animus_daemon_runtime.lifecycle import signal_daemon, wait_for_exit

    started = time.monotonic()
    try:
        with ControlClient(paths.control_sock, timeout=5.0) as client:
            client.call("daemon/stop", {"timeout_secs": _STOP_TIMEOUT})
    except Exception:
        signal_daemon(info)
    stopped = wait_for_exit(info, _STOP_TIMEOUT + 10)
    if not stopped:
        signal_daemon(info, signal.SIGKILL)
        stopped = wait_for_exit(info, 5)
    report.stopped = stopped
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(info.pid, os.WNOHANG)  # the daemon is this process's child: reap it
    report.stop_seconds = round(time.monotonic() - started, 3)


# -- leftovers ---------------------------------------------------------------------------------


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def leftover_processes(markers: Mapping[str, str]) -> list[dict[str, Any]]:
    """Processes (other than this one and its parents) whose environment holds one of the
    ``markers`` assignments exactly (``ANIMUS_HOME=<the demo's own temporary home>``, ...):
    only what the demo started carries them. Empty where /proc is absent."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    mine = _ancestors()
    needles = [f"\0{key}={value}\0".encode() for key, value in markers.items() if value]
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            environ = b"\0" + (entry / "environ").read_bytes() + b"\0"
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if any(n in environ for n in needles):
            text = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
            found.append({"pid": int(entry.name), "cmdline": text})
    return found


def reap_leftovers(markers: Mapping[str, str]) -> list[dict[str, Any]]:
    """Terminate any leftover (a safety net: normally there is none), then kill what stays."""
    found = leftover_processes(markers)
    if not found:
        return []
    for item in found:
        with contextlib.suppress(OSError):
            os.kill(item["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and leftover_processes(markers):
        time.sleep(0.05)
    for item in leftover_processes(markers):
        with contextlib.suppress(OSError):
            os.kill(item["pid"], signal.SIGKILL)
    return found
