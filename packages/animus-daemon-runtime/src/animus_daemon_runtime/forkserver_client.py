"""The daemon's side of ``animus-workflow-runner forkserver``.

One forkserver per daemon, started on the first dispatch. ``ForkServer.spawn`` asks it to
fork an ``execute`` child and returns a :class:`ForkedRunner` whose ``wait()`` resolves with
the child's exit code (reported by the forkserver, which is its parent). When the forkserver
dies, runners it forked keep running in their own sessions: their waiters fall back to
polling the pid (exit code unknown, the outcome is read from the run record, exactly as for
a runner re-attached after a daemon restart) and the next dispatch starts a new forkserver.
A forkserver that cannot start, twice in a row, turns fork mode off for this daemon: it
spawns a fresh process per run instead and says so in ``last_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from animus_daemon_runtime._proc import process_start_time, same_process_alive

__all__ = ["ForkServer", "ForkServerError", "ForkedRunner"]

_READY_TIMEOUT = 60.0
_REPLY_TIMEOUT = 15.0
_MAX_START_FAILURES = 2


class ForkServerError(RuntimeError):
    """The forkserver could not fork this run (the caller spawns it instead)."""


class ForkedRunner:
    """A runner forked by the forkserver: what ``asyncio.subprocess.Process`` offers the
    process manager (``pid``, ``returncode``, ``wait``)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start_time = process_start_time(pid)
        self.returncode: int | None = None
        self._done = asyncio.Event()
        self._orphaned = False

    def _exited(self, code: int | None) -> None:
        self.returncode = code
        self._done.set()

    def _orphan(self) -> None:
        """The forkserver died: nobody will report this exit any more."""
        self._orphaned = True
        self._done.set()

    async def wait(self) -> int | None:
        await self._done.wait()
        if self._orphaned and self.returncode is None:
            # Not our child and no one reports its end: polling the pid is all there is.
            while same_process_alive(self.pid, self.start_time):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        return self.returncode


class ForkServer:
    def __init__(self, command: Sequence[str], *, stderr_path: Path, env: dict[str, str]) -> None:
        self.command = list(command)
        self.stderr_path = stderr_path
        self.env = dict(env)
        self.proc: asyncio.subprocess.Process | None = None
        self.pid: int | None = None
        self.disabled_reason: str | None = None
        self.forks_total = 0
        self.starts_total = 0
        self._start_failures = 0
        self._next_id = 0
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._children: dict[int, ForkedRunner] = {}
        self._early_exits: dict[int, int] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def _start(self) -> None:
        self.stderr_path.parent.mkdir(parents=True, exist_ok=True)
        err = open(self.stderr_path, "ab")  # noqa: SIM115, ASYNC230 - handed to the child
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command,
                "forkserver",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                env=self.env,
                limit=1 << 20,
            )
        finally:
            err.close()
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), _READY_TIMEOUT)
            hello = json.loads(line) if line else None
        except (TimeoutError, ValueError):
            hello = None
        except asyncio.CancelledError:  # a daemon stopping while it starts: leave nothing
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        if not isinstance(hello, dict) or not hello.get("ready"):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise ForkServerError(
                f"the forkserver ({' '.join(self.command)} forkserver) did not start; "
                f"see {self.stderr_path}"
            )
        self.proc = proc
        self.pid = proc.pid
        self.starts_total += 1
        self._reader = asyncio.create_task(self._read(proc), name="forkserver-reader")

    async def _ensure(self) -> None:
        if self.alive:
            return
        if self.disabled_reason is not None:
            raise ForkServerError(self.disabled_reason)
        try:
            await self._start()
        except (OSError, ForkServerError) as exc:
            self._start_failures += 1
            if self._start_failures >= _MAX_START_FAILURES:
                self.disabled_reason = f"fork mode off (spawning runners instead): {exc}"
            raise ForkServerError(str(exc)) from exc
        self._start_failures = 0

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        try:
            while True:
                try:
                    line = await proc.stdout.readline()
                except (ValueError, ConnectionError):
                    break
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    self._route(message)
        finally:
            await proc.wait()
            for fut in self._replies.values():
                if not fut.done():
                    fut.set_exception(ForkServerError("the forkserver exited"))
            self._replies.clear()
            for child in self._children.values():
                child._orphan()
            self._children.clear()
            self._early_exits.clear()

    def _route(self, message: dict[str, Any]) -> None:
        if "exit" in message:
            pid, code = message.get("exit"), message.get("code")
            if isinstance(pid, int):
                code = code if isinstance(code, int) else None
                child = self._children.pop(pid, None)
                if child is not None:
                    child._exited(code)
                elif code is not None:
                    self._early_exits[pid] = code
            return
        ident = message.get("id")
        fut = self._replies.pop(ident, None) if isinstance(ident, int) else None
        if fut is not None and not fut.done():
            fut.set_result(message)

    async def warm(self) -> bool:
        """Start the forkserver ahead of the first dispatch (False when it cannot start; the
        failure counts towards turning fork mode off, like a failed dispatch would)."""
        async with self._lock:
            try:
                await self._ensure()
            except ForkServerError:
                return False
        return True

    async def spawn(
        self, argv: Sequence[str], *, cwd: Path, env: dict[str, str], log: Path
    ) -> ForkedRunner:
        """Fork ``execute`` with ``argv`` (the words after the program name)."""
        async with self._lock:
            await self._ensure()
            proc = self.proc
            assert proc is not None
            assert proc.stdin is not None
            self._next_id += 1
            ident = self._next_id
            fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._replies[ident] = fut
            request = {
                "id": ident,
                "argv": list(argv),
                "cwd": str(cwd),
                "env": env,
                "log": str(log),
            }
            try:
                proc.stdin.write((json.dumps(request) + "\n").encode())
                await proc.stdin.drain()
            except (ConnectionError, RuntimeError) as exc:
                self._replies.pop(ident, None)
                raise ForkServerError(f"the forkserver is gone: {exc}") from exc
        try:
            reply = await asyncio.wait_for(fut, _REPLY_TIMEOUT)
        except TimeoutError as exc:
            self._replies.pop(ident, None)
            raise ForkServerError("the forkserver did not answer a fork request") from exc
        pid = reply.get("pid")
        if not isinstance(pid, int):
            raise ForkServerError(str(reply.get("error") or "the forkserver refused the request"))
        child = ForkedRunner(pid)
        early = self._early_exits.pop(pid, None)
        if early is not None:
            child._exited(early)
        else:
            self._children[pid] = child
        self.forks_total += 1
        return child

    async def close(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a bound on a child's exit
        """End the forkserver (its forked runners keep running, followed by pid)."""
        proc = self.proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        deadline = time.monotonic() + timeout
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), max(0.0, deadline - time.monotonic()))
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
