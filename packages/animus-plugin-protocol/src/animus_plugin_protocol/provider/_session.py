"""One CLI run: spawn in its own process group, stream its lines through a parser, turn the
events into ``agent/*`` notifications, and aggregate the ``AgentRunResponse``.

The whole process group is the unit of ownership: timeouts, cancellation and normal exit all
end with the group killed, so a CLI's helper processes never outlive the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from animus_plugin_protocol._errors import ErrorCode, RpcError
from animus_plugin_protocol.kinds.provider import (
    NOTIFY_ERROR,
    NOTIFY_OUTPUT,
    NOTIFY_THINKING,
    NOTIFY_TOOL_CALL,
    NOTIFY_TOOL_RESULT,
    AgentError,
    AgentOutput,
    AgentRunResponse,
    AgentThinking,
    AgentToolCall,
    AgentToolResult,
    ResponseToolCall,
    ResponseToolResult,
    TokensUsed,
)

from ._events import (
    CliEvent,
    ErrorEvent,
    FinalText,
    Metadata,
    TextDelta,
    Thinking,
    ToolCall,
    ToolResult,
    tokens_from_metadata,
)

__all__ = ["DEFAULT_MAX_LINE_BYTES", "CliSession", "SessionRegistry", "run_cli_session"]

DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024
_READ_CHUNK = 64 * 1024
_DRAIN_SECS = 2.0  # how long to wait for output after the leader exited

Notify = Callable[[str, Any], None]
LineParser = Callable[[str], Iterable[CliEvent]]


class CliSession:
    """A single run of a CLI. `run` returns the response or raises `RpcError`:

    * ``-32003`` (category ``timeout``) when ``timeout_secs`` elapsed;
    * ``-32002`` (category ``cancelled``, message mentions "cancel") after `cancel`;
    * ``-32603`` ``session_start_failed`` when the command cannot be started, and
      ``run_failed`` when the parser reported a non-recoverable error.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: str,
        env: Mapping[str, str],
        session_id: str,
        parse_line: LineParser,
        notify: Notify,
        backend: str,
        timeout_secs: float | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        kill_grace_secs: float = 0.5,
        stdin_data: bytes | None = None,
    ) -> None:
        if not argv:
            raise ValueError("argv must name a command")
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env)
        self.session_id = session_id
        self.backend = backend
        self.timeout_secs = timeout_secs
        self.max_line_bytes = max_line_bytes
        self.kill_grace_secs = kill_grace_secs
        self._parse_line = parse_line
        self._notify = notify
        self._stdin_data = stdin_data
        self._proc: asyncio.subprocess.Process | None = None
        self._cancel_requested = False
        self._fatal: str | None = None
        self._kill_task: asyncio.Task[None] | None = None
        # Aggregation state.
        self._deltas: list[str] = []
        self._final: str | None = None
        self._last_was_final = False
        self._metadata: list[Any] = []
        self._tool_calls: list[Any] = []
        self._tool_results: list[Any] = []
        self._thinking: list[str] = []
        self._errors: list[str] = []
        self._tokens: TokensUsed | None = None

    @property
    def pid(self) -> int | None:
        """The CLI's pid, which is also its process-group id."""
        return self._proc.pid if self._proc else None

    # -- lifecycle --------------------------------------------------------------------

    async def run(self) -> AgentRunResponse:
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=asyncio.subprocess.PIPE
                if self._stdin_data is not None
                else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                limit=_READ_CHUNK,
            )
        except OSError as exc:
            raise RpcError.internal(
                f"cannot start {self.argv[0]!r} in {self.cwd!r}: {exc.strerror or exc}",
                category="session_start_failed",
            ) from None
        self._proc = proc
        try:
            if self._cancel_requested:
                await self._kill_group()
            else:
                await asyncio.wait_for(self._supervise(proc), timeout=self.timeout_secs)
        except TimeoutError:
            await self._kill_group()
            raise RpcError.timeout(
                f"agent run {self.session_id} timed out after {self.timeout_secs:g}s; "
                "the CLI's process group was killed"
            ) from None
        finally:
            # Normal exit, error, timeout or task cancellation: the group never outlives us.
            await asyncio.shield(self._kill_group())
        if self._cancel_requested:
            raise RpcError.cancelled(f"agent run {self.session_id} was cancelled")
        if self._fatal is not None:
            raise RpcError(
                ErrorCode.INTERNAL_ERROR,
                self._fatal,
                category="run_failed",
                data={"exit_code": proc.returncode, "output": self._output()},
            )
        return self._response(proc.returncode, started)

    async def cancel(self) -> None:
        """Kill the process group (SIGTERM, then SIGKILL after the grace period)."""
        self._cancel_requested = True
        await self._kill_group()

    async def _supervise(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        assert proc.stderr is not None
        if self._stdin_data is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.write(self._stdin_data)
                await proc.stdin.drain()
                proc.stdin.close()
        pumps = [
            asyncio.ensure_future(self._pump(proc.stdout, self._on_stdout_line)),
            asyncio.ensure_future(self._pump(proc.stderr, self._on_stderr_line)),
        ]
        try:
            await proc.wait()
            # A helper process may still hold the pipes open; give output a moment to drain.
            _, pending = await asyncio.wait(pumps, timeout=_DRAIN_SECS)
            if pending:
                await self._kill_group()
                await asyncio.wait(pending, timeout=_DRAIN_SECS)
        finally:
            for pump in pumps:
                pump.cancel()

    async def _kill_group(self) -> None:
        proc = self._proc
        if proc is None:
            return
        pgid = proc.pid
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), timeout=self.kill_grace_secs)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), timeout=5.0)

    # -- lines ------------------------------------------------------------------------

    async def _pump(self, stream: asyncio.StreamReader, on_line: Callable[[str], None]) -> None:
        partial = bytearray()
        discarding = False
        cap = self.max_line_bytes
        while True:
            chunk = await stream.read(_READ_CHUNK)
            if not chunk:
                break
            start = 0
            while True:
                newline = chunk.find(b"\n", start)
                piece = chunk[start:] if newline < 0 else chunk[start:newline]
                if not discarding:
                    partial += piece
                    if len(partial) > cap:
                        self._oversized_line()
                        partial.clear()
                        discarding = True
                if newline < 0:
                    break
                if discarding:
                    discarding = False
                else:
                    on_line(partial.decode("utf-8", errors="replace"))
                    partial.clear()
                start = newline + 1
        if partial and not discarding:
            on_line(partial.decode("utf-8", errors="replace"))

    def _oversized_line(self) -> None:
        self._handle(
            ErrorEvent(f"CLI output line exceeds {self.max_line_bytes} bytes; dropped", True)
        )

    def _on_stdout_line(self, line: str) -> None:
        line = line.rstrip("\r\n")
        if not line.strip():
            return
        try:
            events = list(self._parse_line(line))
        except Exception as exc:
            events = [ErrorEvent(f"cannot parse CLI output line: {exc}", recoverable=True)]
        for event in events:
            self._handle(event)

    def _on_stderr_line(self, line: str) -> None:
        line = line.rstrip("\r\n")
        if line.strip():
            self._handle(ErrorEvent(line, recoverable=True), from_stderr=True)

    # -- events -----------------------------------------------------------------------

    def _handle(self, event: CliEvent, *, from_stderr: bool = False) -> None:
        sid = self.session_id
        if from_stderr:
            # stderr is read concurrently with stdout; a warning landing between the CLI's
            # two identical final texts must not defeat the duplicate check of stdout.
            was_final = self._last_was_final
        else:
            was_final, self._last_was_final = self._last_was_final, False
        if isinstance(event, TextDelta):
            self._deltas.append(event.text)
            self._notify(NOTIFY_OUTPUT, AgentOutput(session_id=sid, text=event.text, final=False))
        elif isinstance(event, FinalText):
            self._last_was_final = True
            if was_final and event.text == self._final:
                return  # duplicate consecutive final text
            self._final = event.text
            self._notify(
                NOTIFY_OUTPUT,
                AgentOutput(session_id=sid, text=event.text, final=True, is_final=True),
            )
        elif isinstance(event, Thinking):
            self._thinking.append(event.text)
            self._notify(NOTIFY_THINKING, AgentThinking(session_id=sid, text=event.text))
        elif isinstance(event, ToolCall):
            self._tool_calls.append(
                ResponseToolCall(tool=event.name, arguments=event.arguments, server=event.server)
            )
            self._notify(
                NOTIFY_TOOL_CALL,
                AgentToolCall(
                    session_id=sid, name=event.name, arguments=event.arguments, server=event.server
                ),
            )
        elif isinstance(event, ToolResult):
            self._tool_results.append(
                ResponseToolResult(tool=event.name, output=event.output, success=event.success)
            )
            self._notify(
                NOTIFY_TOOL_RESULT,
                AgentToolResult(
                    session_id=sid, name=event.name, output=event.output, success=event.success
                ),
            )
        elif isinstance(event, Metadata):
            self._metadata.append(event.metadata)
            if self._tokens is None:
                self._tokens = tokens_from_metadata(event.metadata)
        elif isinstance(event, ErrorEvent):
            self._errors.append(event.message)
            self._notify(
                NOTIFY_ERROR,
                AgentError(session_id=sid, message=event.message, recoverable=event.recoverable),
            )
            if not event.recoverable and self._fatal is None:
                self._fatal = event.message
                self._kill_task = asyncio.ensure_future(self._kill_group())

    def _output(self) -> str:
        return self._final if self._final is not None else "".join(self._deltas)

    def _response(self, exit_code: int | None, started: float) -> AgentRunResponse:
        return AgentRunResponse(
            session_id=self.session_id,
            exit_code=-1 if exit_code is None else exit_code,
            output=self._output(),
            duration_ms=int((time.monotonic() - started) * 1000),
            backend=self.backend,
            metadata=self._metadata,
            tool_calls=self._tool_calls,
            tool_results=self._tool_results,
            thinking=self._thinking,
            errors=self._errors,
            tokens_used=self._tokens,
        )


class SessionRegistry:
    """Live sessions by control session id, so ``agent/cancel`` reaches the right group."""

    def __init__(self) -> None:
        self._sessions: dict[str, CliSession] = {}

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._sessions

    def add(self, session: CliSession) -> None:
        if session.session_id in self._sessions:
            raise RpcError.invalid_params(
                f"session {session.session_id!r} is already running", category="invalid_request"
            )
        self._sessions[session.session_id] = session

    def discard(self, session: CliSession) -> None:
        if self._sessions.get(session.session_id) is session:
            del self._sessions[session.session_id]

    async def cancel(self, session_id: str) -> bool:
        session = self._sessions.get(session_id)
        if session is None:
            return False
        await session.cancel()
        return True


async def run_cli_session(
    argv: Sequence[str],
    *,
    cwd: str,
    env: Mapping[str, str],
    session_id: str,
    parse_line: LineParser,
    notify: Notify,
    backend: str,
    timeout_secs: float | None = None,
    registry: SessionRegistry | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    kill_grace_secs: float = 0.5,
    stdin_data: bytes | None = None,
) -> AgentRunResponse:
    """Run one CLI session to completion (registered in ``registry`` while it runs)."""
    session = CliSession(
        argv,
        cwd=cwd,
        env=env,
        session_id=session_id,
        parse_line=parse_line,
        notify=notify,
        backend=backend,
        timeout_secs=timeout_secs,
        max_line_bytes=max_line_bytes,
        kill_grace_secs=kill_grace_secs,
        stdin_data=stdin_data,
    )
    if registry is not None:
        registry.add(session)
    try:
        return await session.run()
    finally:
        if registry is not None:
            registry.discard(session)
