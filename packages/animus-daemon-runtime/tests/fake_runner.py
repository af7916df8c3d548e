"""A stand-in ``animus-workflow-runner`` that follows the pinned process contract.

Used by the daemon tests until (and besides) the real runner: it records the run in
``workflow.db`` through the service hub, appends every event to
``runs/<id>/workflow-events.jsonl`` and sends it to ``--events-socket`` without ever
blocking on it, checkpoints on SIGTERM (exit 3), resumes from the last completed phase and
exits 0 completed / 1 failed / 2 invalid input / 3 paused / 4 cancelled.

Knobs (environment): FAKE_RUNNER_PHASES (3), FAKE_RUNNER_PHASE_SECS (0.05),
FAKE_RUNNER_FAIL (comma-separated subject ids that fail), FAKE_RUNNER_TRACE (a file that
gets ``start``/``end`` lines for concurrency accounting), FAKE_RUNNER_HANG_PHASE (a phase
index that sleeps until signalled).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

from animus_core.hub import ServiceHub
from animus_protocol.envelope import NotFoundError
from animus_protocol.statuses import WorkflowStatus
from animus_protocol.subjects import SubjectRef
from animus_protocol.timeutil import utc_now, utc_now_str
from animus_protocol.workflow import WorkflowPhaseExecution, WorkflowRun

STOP = {"requested": False}


def _on_term(signum: int, frame: object) -> None:
    STOP["requested"] = True


class Events:
    def __init__(self, path: Path, socket_path: str | None, workflow_id: str) -> None:
        self.path = path
        self.workflow_id = workflow_id
        self.seq = 0
        if path.exists():
            for line in path.read_text().splitlines():
                with contextlib.suppress(ValueError):
                    self.seq = max(self.seq, int(json.loads(line).get("seq", 0)))
        self.sock: socket.socket | None = None
        if socket_path:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(0.5)
                s.connect(socket_path)
                s.setblocking(False)
                self.sock = s
            except OSError:
                self.sock = None

    def emit(self, kind: str, phase_id: str | None = None, **payload: object) -> None:
        self.seq += 1
        event: dict[str, object] = {
            "seq": self.seq,
            "ts": utc_now_str(),
            "workflow_id": self.workflow_id,
            "kind": kind,
            "payload": payload,
        }
        if phase_id:
            event["phase_id"] = phase_id
        line = (json.dumps(event) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        if self.sock is not None:
            try:
                self.sock.send(line)
            except OSError:
                self.sock = None  # never block on the daemon: the file is authoritative


def _trace(what: str, workflow_id: str) -> None:
    target = os.environ.get("FAKE_RUNNER_TRACE")
    if target:
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{what} {workflow_id} {time.time():.6f} {os.getpid()}\n".encode())
        finally:
            os.close(fd)


def _requested_action(hub: ServiceHub, workflow_id: str) -> str | None:
    """The pause/cancel request written into the run's ``control`` field, if any."""
    try:
        stored = hub.runs.get(workflow_id)
    except NotFoundError:
        return None
    control = (stored.__pydantic_extra__ or {}).get("control")
    if isinstance(control, dict):
        action = control.get("requested_action")
        return str(action) if action else None
    return None


def _save(hub: ServiceHub, run: WorkflowRun) -> None:
    """Save the run keeping a pause/cancel request written meanwhile (like the real runner)."""
    with hub.db.transaction():
        try:
            stored = hub.runs.get(run.id)
            control = (stored.__pydantic_extra__ or {}).get("control")
        except NotFoundError:
            control = None
        if control is not None:
            if run.__pydantic_extra__ is None:
                run.__pydantic_extra__ = {}
            run.__pydantic_extra__["control"] = control
        hub.runs.save(run)


def _clear_request(run: WorkflowRun) -> None:
    if run.__pydantic_extra__ is not None:
        run.__pydantic_extra__.pop("control", None)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="fake-runner")
    sub = parser.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("execute")
    ex.add_argument("--project-root", required=True)
    ex.add_argument("--task-id")
    ex.add_argument("--subject")
    ex.add_argument("--workflow-ref")
    ex.add_argument("--workflow-id")
    ex.add_argument("--run-id")
    ex.add_argument("--input-json")
    ex.add_argument("--var", action="append", default=[])
    ex.add_argument("--events-socket")
    ex.add_argument("--resume", action="store_true")
    ex.add_argument("--force", action="store_true")
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        return 2
    signal.signal(signal.SIGTERM, _on_term)
    hub = ServiceHub(args.project_root)
    wf_id = args.workflow_id or args.run_id
    if not wf_id:
        print("need --run-id (new run) or --workflow-id (resume)", file=sys.stderr)
        return 2
    _trace("start", wf_id)
    if args.workflow_id:
        existing = hub.runs.get(args.workflow_id)
        subject = existing.subject
        args.task_id = existing.task_id or None
    elif args.task_id:
        subject = SubjectRef(kind="animus.task", id=args.task_id)
    elif args.subject:
        kind, _, ident = args.subject.partition(":")
        subject = (
            SubjectRef(kind=kind, id=ident) if ident else SubjectRef(kind="custom", title=kind)
        )
    else:
        print("need --task-id or --subject", file=sys.stderr)
        return 2
    n_phases = int(os.environ.get("FAKE_RUNNER_PHASES", "3"))
    phase_secs = float(os.environ.get("FAKE_RUNNER_PHASE_SECS", "0.05"))
    hang = os.environ.get("FAKE_RUNNER_HANG_PHASE")
    run_dir = hub.paths.run_dir(wf_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    events = Events(run_dir / "workflow-events.jsonl", args.events_socket, wf_id)
    try:
        run = hub.runs.get(wf_id)
    except NotFoundError:
        run = None
    if run is not None and run.status.value in ("completed", "failed", "cancelled", "escalated"):
        _trace("end", wf_id)
        return {"completed": 0, "cancelled": 4}.get(run.status.value, 1)
    if run is None:
        run = WorkflowRun(
            id=wf_id,
            task_id=args.task_id or "",
            workflow_ref=args.workflow_ref,
            subject=subject,
            status=WorkflowStatus.RUNNING,
            phases=[WorkflowPhaseExecution(phase_id=f"phase-{i + 1}") for i in range(n_phases)],
        )
        _save(hub, run)
        events.emit("workflow_started", pid=os.getpid())
    else:
        run.status = WorkflowStatus.RUNNING
        _clear_request(run)
        hub.runs.save(run)  # clears the request being resumed from
        events.emit("workflow_resumed", from_phase=run.current_phase_index)
    if args.task_id:
        with contextlib.suppress(Exception):
            hub.tasks.set_status(args.task_id, "in-progress", force=True, by="runner")
    fail = set(filter(None, os.environ.get("FAKE_RUNNER_FAIL", "").split(",")))
    while run.current_phase_index < len(run.phases):
        phase = run.phases[run.current_phase_index]
        requested = _requested_action(hub, wf_id)
        if requested == "cancel":
            run.status = WorkflowStatus.CANCELLED
            run.completed_at = utc_now()
            run.failure_reason = "cancelled"
            _save(hub, run)
            events.emit("workflow_cancelled", phase.phase_id)
            if args.task_id:
                with contextlib.suppress(Exception):
                    hub.tasks.set_status(args.task_id, "cancelled", force=True, by="runner")
            _trace("end", wf_id)
            return 4
        if STOP["requested"] or requested == "pause":
            run.status = WorkflowStatus.PAUSED
            _save(hub, run)
            events.emit("workflow_paused", phase.phase_id, reason="sigterm")
            _trace("end", wf_id)
            return 3
        events.emit("phase_started", phase.phase_id, attempt=phase.attempt + 1)
        deadline = time.monotonic() + phase_secs
        if hang and int(hang) == run.current_phase_index:
            deadline = time.monotonic() + 3600
        while time.monotonic() < deadline and not STOP["requested"]:
            time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))
        if STOP["requested"]:
            continue  # checkpoint at the top of the loop: the phase re-runs on resume
        phase.attempt += 1
        phase.completed_at = utc_now()
        if (args.task_id or subject.id) in fail:
            run.status = WorkflowStatus.FAILED
            run.failure_reason = f"{phase.phase_id} failed (scripted)"
            run.completed_at = utc_now()
            _save(hub, run)
            events.emit("phase_completed", phase.phase_id, status="failed")
            events.emit("workflow_failed", reason=run.failure_reason)
            if args.task_id:
                with contextlib.suppress(Exception):
                    hub.tasks.block(args.task_id, run.failure_reason, by="runner")
            _trace("end", wf_id)
            return 1
        run.current_phase_index += 1
        _save(hub, run)
        events.emit("phase_completed", phase.phase_id, status="success")
    run.status = WorkflowStatus.COMPLETED
    run.completed_at = utc_now()
    _save(hub, run)
    if args.task_id:
        with contextlib.suppress(Exception):
            hub.tasks.set_status(args.task_id, "done", force=True, by="runner")
    events.emit("workflow_completed")
    _trace("end", wf_id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
