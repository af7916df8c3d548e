"""The process manager: one ``animus-workflow-runner`` process per dispatched run.

Each runner runs in its own session (its own process group, so a signal reaches the agents
it spawned too), writes stdout and stderr to ``runs/<id>/runner.log`` and sends its workflow
events live over a per-run Unix socket. ``runs/<id>/workflow-events.jsonl`` stays the
authoritative record: it is tailed as well, and events are deduplicated by ``seq``, so a
dropped socket never loses an event. A runner left behind by a previous daemon is
*attached*: its event file is tailed and its pid polled, it is never started twice.

Runners are forked by a warm ``animus-workflow-runner forkserver`` (``runner_launch:
fork``, the default; see :mod:`animus_daemon_runtime.forkserver_client`) or started as a
fresh process each (``spawn``, and always when ``ANIMUS_WORKFLOW_RUNNER_BIN`` names another
runner). Either way a runner is its own session with the same arguments, environment, log
and event channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from animus_daemon_runtime._proc import process_start_time, same_process_alive
from animus_daemon_runtime.bus import EventBus
from animus_daemon_runtime.forkserver_client import ForkedRunner, ForkServer, ForkServerError
from animus_protocol.envelope import UnavailableError
from animus_protocol.paths import ScopePaths
from animus_protocol.subjects import KIND_CUSTOM, KIND_REQUIREMENT, KIND_TASK, SubjectRef
from animus_protocol.timeutil import utc_now_str
from animus_store import write_json_atomic

__all__ = [
    "RUNNER_EXIT_CODES",
    "ProcessManager",
    "RunnerExit",
    "RunnerHandle",
    "RunnerRecord",
    "events_socket_dir",
    "read_runner_record",
    "resolve_runner_command",
    "subject_arg",
]

# The pinned runner contract: what each exit code means.
RUNNER_EXIT_CODES = {
    0: "completed",
    1: "failed",
    2: "invalid_input",
    3: "paused",
    4: "cancelled",
    5: "unavailable",
}
RUNNER_RECORD = "runner.json"
EVENTS_FILE = "workflow-events.jsonl"
RUNNER_LOG = "runner.log"
_TAIL_BYTES = 4096


@dataclass
class RunnerRecord:
    """The daemon's pid guard for one run (``runs/<id>/runner.json``)."""

    workflow_id: str
    pid: int
    start_time: str | None
    subject: str
    subject_key: str | None = None
    entry_id: str | None = None
    workflow_ref: str | None = None
    spawned_at: str = field(default_factory=utc_now_str)
    spawned_monotonic: float = 0.0
    resume: bool = False
    attempts: int = 0
    daemon_pid: int = field(default_factory=os.getpid)
    exit_code: int | None = None
    # Why the daemon signalled it: "shutdown", "pause" or "cancel" (None: it was not).
    stop_reason: str | None = None
    # How it was started: "fork" (by the forkserver) or "spawn" (a fresh process).
    launch: str = "spawn"

    def alive(self) -> bool:
        return same_process_alive(self.pid, self.start_time)


@dataclass
class RunnerExit:
    """How a runner process ended. ``exit_code`` is ``None`` for an attached runner (not our
    child: its outcome is read from the run record) and negative for a signal."""

    record: RunnerRecord
    exit_code: int | None
    stderr_tail: str
    attached: bool

    @property
    def outcome(self) -> str:
        if self.exit_code is None:
            return "unknown"
        if self.exit_code < 0:
            return "crashed"
        return RUNNER_EXIT_CODES.get(self.exit_code, "crashed")

    @property
    def crashed(self) -> bool:
        return self.outcome == "crashed"

    def describe(self) -> str:
        if self.exit_code is not None and self.exit_code < 0:
            try:
                name = signal.Signals(-self.exit_code).name
            except ValueError:
                name = f"signal {-self.exit_code}"
            return f"runner killed by {name}"
        if self.exit_code is None:
            return "runner exited (attached; outcome read from the run)"
        return f"runner exited with code {self.exit_code} ({self.outcome})"


def subject_arg(ref: SubjectRef) -> str:
    """How the runner's command line names a subject (``task:ID``, ``custom:TITLE``, ...)."""
    if ref.kind == KIND_TASK:
        return f"task:{ref.id}"
    if ref.kind == KIND_REQUIREMENT:
        return f"requirement:{ref.id}"
    if ref.kind == KIND_CUSTOM:
        return f"custom:{ref.id or ref.title}"
    return f"{ref.kind}:{ref.id}"


def read_runner_record(paths: ScopePaths, workflow_id: str) -> RunnerRecord | None:
    path = paths.run_dir(workflow_id) / RUNNER_RECORD
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return RunnerRecord(
            **{k: v for k, v in raw.items() if k in RunnerRecord.__dataclass_fields__}
        )
    except (OSError, ValueError, TypeError):
        return None


def resolve_runner_command(env: dict[str, str] | None = None) -> list[str]:
    """``ANIMUS_WORKFLOW_RUNNER_BIN`` (a command line), else ``animus-workflow-runner`` next
    to this interpreter, else on PATH."""
    env = dict(os.environ if env is None else env)
    override = env.get("ANIMUS_WORKFLOW_RUNNER_BIN", "").strip()
    if override:
        return shlex.split(override)
    sibling = Path(sys.executable).parent / "animus-workflow-runner"
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return [str(sibling)]
    found = shutil.which("animus-workflow-runner", path=env.get("PATH"))
    if found:
        return [found]
    raise UnavailableError(
        "the workflow runner executable 'animus-workflow-runner' was not found",
        hint="install animus-workflow-runner in this environment or set "
        "ANIMUS_WORKFLOW_RUNNER_BIN to its command line",
    )


def events_socket_dir(paths: ScopePaths, env: dict[str, str] | None = None) -> Path:
    """A short private directory for per-run sockets (Unix socket paths max ~107 bytes)."""
    env = dict(os.environ if env is None else env)
    digest = hashlib.sha256(str(paths.root).encode()).hexdigest()[:10]
    runtime = env.get("XDG_RUNTIME_DIR", "")
    base = (
        Path(runtime) / "animus"
        if runtime and len(runtime) < 40
        else Path(
            f"/tmp/animus-{os.getuid()}"  # noqa: S108 - private 0700 dir, checked below
        )
    )
    target = base / digest
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for directory in (base, target):
        st = directory.stat()
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            os.chmod(directory, 0o700)
            if directory.stat().st_uid != os.getuid():
                raise UnavailableError(
                    f"event socket directory {directory} belongs to another user",
                    hint="set XDG_RUNTIME_DIR to a private directory",
                )
    return target


def _tail(path: Path, size: int = _TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            fh.seek(max(0, end - size))
            return fh.read().decode("utf-8", errors="replace").strip()
    except OSError:
        return ""


EventCallback = Callable[[str, dict[str, Any]], None]
ExitCallback = Callable[["RunnerExit"], Awaitable[None]]


class RunnerHandle:
    """One live (spawned or attached) runner."""

    def __init__(self, record: RunnerRecord, run_dir: Path) -> None:
        self.record = record
        self.run_dir = run_dir
        self.last_seq = 0
        self.proc: asyncio.subprocess.Process | ForkedRunner | None = None
        self.server: asyncio.AbstractServer | None = None
        self.socket_path: Path | None = None
        self.task: asyncio.Task[None] | None = None
        self._file_offset = 0
        self.finished = asyncio.Event()

    @property
    def workflow_id(self) -> str:
        return self.record.workflow_id

    @property
    def attached(self) -> bool:
        return self.proc is None

    def save_record(self) -> None:
        write_json_atomic(self.run_dir / RUNNER_RECORD, asdict(self.record))

    def signal(self, sig: int) -> bool:
        """Signal the runner's whole process group; False when it is already gone."""
        if not self.record.alive():
            return False
        try:
            os.killpg(self.record.pid, sig)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover - not its group leader any more
            try:
                os.kill(self.record.pid, sig)
            except ProcessLookupError:
                return False
        return True


class ProcessManager:
    def __init__(
        self,
        paths: ScopePaths,
        project_root: Path,
        bus: EventBus,
        *,
        on_event: EventCallback,
        on_exit: ExitCallback,
        env: dict[str, str] | None = None,
    ) -> None:
        self.paths = paths
        self.project_root = project_root
        self.bus = bus
        self.on_event = on_event
        self.on_exit = on_exit
        self.env = dict(os.environ if env is None else env)
        self.active: dict[str, RunnerHandle] = {}
        self.spawned_total = 0
        self._socket_dir: Path | None = None
        # "fork" or "spawn"; the daemon sets it from pm-config.json (``runner_launch``).
        self.launch = "fork"
        self.forkserver: ForkServer | None = None
        self.fork_fallbacks = 0
        self.last_fork_error: str | None = None

    def _fork_wanted(self) -> bool:
        return self.launch == "fork" and not self.env.get("ANIMUS_WORKFLOW_RUNNER_BIN", "").strip()

    def _forkserver(self) -> ForkServer:
        if self.forkserver is None:
            self.forkserver = ForkServer(
                resolve_runner_command(self.env),
                stderr_path=self.paths.daemon_dir / "forkserver.log",
                env={**self.env, "ANIMUS_DAEMON_PID": str(os.getpid())},
            )
        return self.forkserver

    async def warm(self) -> None:
        """Start the forkserver now (at daemon start) so the first dispatch does not wait
        for its imports; nothing when runners are spawned."""
        if not self._fork_wanted():
            return
        try:
            server = self._forkserver()
        except UnavailableError as exc:
            self.last_fork_error = exc.message
            return
        if not await server.warm():
            self.last_fork_error = server.disabled_reason or "the forkserver did not start"

    async def _fork(
        self, argv: list[str], run_dir: Path, env: dict[str, str]
    ) -> ForkedRunner | None:
        """Fork the runner from the forkserver; None (and a spawn instead) when it cannot."""
        try:
            return await self._forkserver().spawn(
                argv[1:], cwd=self.project_root, env=env, log=run_dir / RUNNER_LOG
            )
        except ForkServerError as exc:
            self.fork_fallbacks += 1
            self.last_fork_error = str(exc)
            return None

    async def close(self) -> None:
        """End the forkserver (runners it forked keep running)."""
        if self.forkserver is not None:
            await self.forkserver.close()

    # -- spawning ------------------------------------------------------------------------------

    def _argv(
        self,
        *,
        workflow_id: str,
        subject: str,
        workflow_ref: str | None,
        input: Any,
        vars: dict[str, str],
        socket_path: Path,
        resume: bool,
    ) -> list[str]:
        argv = [
            *resolve_runner_command(self.env),
            "execute",
            "--project-root",
            str(self.project_root),
        ]
        if resume:
            # The contract: --workflow-id names an existing run to resume (no subject).
            argv += ["--workflow-id", workflow_id, "--resume"]
        else:
            kind, _, ident = subject.partition(":")
            if kind == "task" and ident:
                argv += ["--task-id", ident]
            else:
                argv += ["--subject", subject]
            if workflow_ref:
                argv += ["--workflow-ref", workflow_ref]
            argv += ["--run-id", workflow_id]
            if input is not None:
                argv += ["--input-json", json.dumps(input)]
            for key, value in sorted(vars.items()):
                argv += ["--var", f"{key}={value}"]
        argv += ["--events-socket", str(socket_path)]
        return argv

    async def spawn(
        self,
        *,
        workflow_id: str,
        subject: str,
        subject_key: str | None,
        entry_id: str | None,
        workflow_ref: str | None,
        input: Any = None,
        vars: dict[str, str] | None = None,
        resume: bool = False,
        attempts: int = 0,
    ) -> RunnerHandle:
        run_dir = self.paths.run_dir(workflow_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        if self._socket_dir is None:
            self._socket_dir = events_socket_dir(self.paths, self.env)
        socket_path = self._socket_dir / f"{workflow_id[-24:]}.sock"
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        argv = self._argv(
            workflow_id=workflow_id,
            subject=subject,
            workflow_ref=workflow_ref,
            input=input,
            vars=dict(vars or {}),
            socket_path=socket_path,
            resume=resume,
        )
        record = RunnerRecord(
            workflow_id=workflow_id,
            pid=0,
            start_time=None,
            subject=subject,
            subject_key=subject_key,
            entry_id=entry_id,
            workflow_ref=workflow_ref,
            resume=resume,
            attempts=attempts,
        )
        handle = RunnerHandle(record, run_dir)
        handle.socket_path = socket_path
        handle.last_seq = self._last_file_seq(handle) if resume else 0
        handle._file_offset = self._file_size(handle) if resume else 0
        handle.server = await asyncio.start_unix_server(
            lambda r, w: self._read_socket(handle, r, w), path=str(socket_path)
        )
        os.chmod(socket_path, 0o600)
        env = dict(self.env)
        env["ANIMUS_DAEMON_PID"] = str(os.getpid())
        proc: asyncio.subprocess.Process | ForkedRunner | None = None
        if self._fork_wanted():
            proc = await self._fork(argv, run_dir, env)
            if proc is not None:
                record.launch = "fork"
        if proc is None:
            proc = await self._spawn_process(argv, run_dir, env, handle, socket_path)
        handle.proc = proc
        record.pid = proc.pid
        record.start_time = (
            proc.start_time if isinstance(proc, ForkedRunner) else process_start_time(proc.pid)
        )
        record.spawned_monotonic = time.monotonic()
        write_json_atomic(run_dir / RUNNER_RECORD, asdict(record))
        self.active[workflow_id] = handle
        self.spawned_total += 1
        handle.task = asyncio.create_task(self._supervise(handle), name=f"runner-{workflow_id}")
        return handle

    async def _spawn_process(
        self,
        argv: list[str],
        run_dir: Path,
        env: dict[str, str],
        handle: RunnerHandle,
        socket_path: Path,
    ) -> asyncio.subprocess.Process:
        log = open(run_dir / RUNNER_LOG, "ab")  # noqa: SIM115, ASYNC230 - handed to the child; an append open does not block
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                cwd=str(self.project_root),
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            if handle.server is not None:
                handle.server.close()
            with contextlib.suppress(FileNotFoundError):
                socket_path.unlink()  # noqa: ASYNC240 - one unlink on a failure path
            raise UnavailableError(
                f"cannot start the workflow runner ({argv[0]}): {exc.strerror or exc}",
                hint="check ANIMUS_WORKFLOW_RUNNER_BIN or the animus-workflow-runner install",
            ) from exc
        finally:
            log.close()
        return proc

    async def attach(self, record: RunnerRecord) -> RunnerHandle:
        """Follow a live runner a previous daemon started (never start it again)."""
        handle = RunnerHandle(record, self.paths.run_dir(record.workflow_id))
        handle.last_seq = self._last_file_seq(handle)
        handle._file_offset = self._file_size(handle)
        self.active[record.workflow_id] = handle
        handle.task = asyncio.create_task(
            self._supervise(handle), name=f"attach-{record.workflow_id}"
        )
        return handle

    # -- events ----------------------------------------------------------------------------------

    def _publish(self, handle: RunnerHandle, event: dict[str, Any]) -> None:
        seq = event.get("seq")
        if isinstance(seq, int):
            if seq <= handle.last_seq:
                return
            handle.last_seq = seq
        self.on_event(handle.workflow_id, event)

    async def _read_socket(
        self, handle: RunnerHandle, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, ConnectionError):
                    break  # an over-long line or a reset: the event file still has it
                if not line:
                    break
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    self._publish(handle, event)
        finally:
            writer.close()

    def _events_path(self, handle: RunnerHandle) -> Path:
        return handle.run_dir / EVENTS_FILE

    def _file_size(self, handle: RunnerHandle) -> int:
        try:
            return self._events_path(handle).stat().st_size
        except OSError:
            return 0

    def _last_file_seq(self, handle: RunnerHandle) -> int:
        last = 0
        try:
            with open(self._events_path(handle), "rb") as fh:
                for line in fh:
                    with contextlib.suppress(ValueError):
                        seq = json.loads(line).get("seq")
                        if isinstance(seq, int):
                            last = max(last, seq)
        except OSError:
            pass
        return last

    def _drain_file(self, handle: RunnerHandle) -> None:
        """Publish events in the file that the socket did not deliver (complete lines only)."""
        path = self._events_path(handle)
        try:
            with open(path, "rb") as fh:
                fh.seek(handle._file_offset)
                data = fh.read()
        except OSError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        handle._file_offset += end + 1
        for line in data[: end + 1].splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self._publish(handle, event)

    # -- supervision -----------------------------------------------------------------------------

    async def _supervise(self, handle: RunnerHandle) -> None:
        exit_code: int | None = None
        try:
            if handle.proc is not None:
                waiter = asyncio.create_task(handle.proc.wait())
                while not waiter.done():
                    await asyncio.wait({waiter}, timeout=0.5)
                    self._drain_file(handle)
                exit_code = waiter.result()
            else:
                while handle.record.alive():
                    self._drain_file(handle)
                    await asyncio.sleep(0.2)
            await asyncio.sleep(0)  # let the socket reader take what is already buffered
            self._drain_file(handle)
        finally:
            if handle.server is not None:
                handle.server.close()
            if handle.socket_path is not None:
                with contextlib.suppress(FileNotFoundError):
                    handle.socket_path.unlink()
            self.active.pop(handle.workflow_id, None)
            handle.record.exit_code = exit_code
            with contextlib.suppress(OSError):
                write_json_atomic(handle.run_dir / RUNNER_RECORD, asdict(handle.record))
            handle.finished.set()
        tail = _tail(handle.run_dir / RUNNER_LOG)
        await self.on_exit(RunnerExit(handle.record, exit_code, tail, handle.attached))

    # -- control ---------------------------------------------------------------------------------

    def signal(self, workflow_id: str, sig: int) -> bool:
        handle = self.active.get(workflow_id)
        return handle.signal(sig) if handle is not None else False

    def signal_all(self, sig: int) -> int:
        return sum(1 for h in list(self.active.values()) if h.signal(sig))

    async def wait_all(self, timeout: float) -> bool:  # noqa: ASYNC109 - a drain bound, not a cancel scope
        """Wait until every runner has exited (True) or ``timeout`` passed (False)."""
        deadline = time.monotonic() + timeout
        while self.active:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            waits = [asyncio.create_task(h.finished.wait()) for h in list(self.active.values())]
            _done, pending = await asyncio.wait(waits, timeout=remaining)
            for task in pending:
                task.cancel()
        return True

    async def detach_all(self) -> None:
        """Stop following runners without touching them (a daemon exit that leaves them)."""
        for handle in list(self.active.values()):
            if handle.task is not None:
                handle.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await handle.task
