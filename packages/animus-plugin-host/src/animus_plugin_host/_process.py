"""One hosted plugin process: spawn, handshake, a single reader, calls, fan-out, shutdown.

Exactly one task reads the plugin's stdout. Requests get integer ids and a future each;
the reader resolves the future when the matching response arrives (responses for ids
nobody waits for are counted and discarded). Notifications are offered to every
subscriber's bounded buffer without awaiting. Frames that do not parse, and oversize
frames, are counted and skipped: the connection stays up. When stdout ends, every pending
call fails with :class:`PluginExitedError` naming the exit code and the stderr tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from animus_plugin_host._errors import (
    HandshakeError,
    PluginCallError,
    PluginExitedError,
    PluginHostError,
    PluginTimeoutError,
)
from animus_plugin_host._subscription import PluginNotification, Subscription
from animus_plugin_protocol import (
    MAX_FRAME_BYTES,
    PROTOCOL_VERSION,
    FrameDecoder,
    FrameError,
    encode_frame,
)

__all__ = [
    "DEFAULT_HANDSHAKE_TIMEOUT",
    "DEFAULT_NOTIFICATION_CAPACITY",
    "PluginProcess",
    "resolve_notification_capacity",
]

log = logging.getLogger("animus.plugin_host")

DEFAULT_HANDSHAKE_TIMEOUT = 30.0
DEFAULT_NOTIFICATION_CAPACITY = 256
_READ_CHUNK = 1 << 16
_STDERR_TAIL_LINES = 40
_TIMEOUT_CODE = -32003


def resolve_notification_capacity(
    manifest_size: int | None, env: Mapping[str, str] | None = None
) -> int:
    """Manifest ``notification_buffer_size`` > ``ANIMUS_PLUGIN_BROADCAST_CAPACITY`` > 256."""
    if manifest_size is not None and manifest_size > 0:
        return manifest_size
    env = os.environ if env is None else env
    raw = env.get("ANIMUS_PLUGIN_BROADCAST_CAPACITY", "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            log.warning("ignoring ANIMUS_PLUGIN_BROADCAST_CAPACITY=%r: not an integer", raw)
        else:
            if value > 0:
                return value
    return DEFAULT_NOTIFICATION_CAPACITY


def _major(version: str) -> str:
    return str(version).split(".", 1)[0].strip()


class PluginProcess:
    """A running plugin speaking JSON-RPC on stdio. Create with :meth:`start`."""

    def __init__(
        self,
        name: str,
        proc: asyncio.subprocess.Process,
        *,
        notification_capacity: int,
        stderr_log: Path | None,
        max_frame_bytes: int,
    ) -> None:
        self.name = name
        self.pid = proc.pid
        self._proc = proc
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self._subscribers: list[Subscription] = []
        self.notification_capacity = notification_capacity
        self._stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._stderr_file: BinaryIO | None = None
        if stderr_log is not None:
            stderr_log.parent.mkdir(parents=True, exist_ok=True)
            self._stderr_file = stderr_log.open("ab")
        self.stderr_log = stderr_log
        self._max_frame_bytes = max_frame_bytes
        self.started_at = time.monotonic()
        self.initialize_result: dict[str, Any] = {}
        self.frame_errors = 0
        self.unknown_responses = 0
        self.notifications_received = 0
        self.dropped_subscribers: list[str] = []
        self.exit_code: int | None = None
        self.closed_reason: str | None = None
        self._closed = asyncio.Event()
        self._stderr_done = asyncio.Event()
        self._reader = asyncio.create_task(self._read_loop(), name=f"plugin-reader:{name}")
        self._stderr_reader = asyncio.create_task(self._read_stderr(), name=f"plugin-stderr:{name}")

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def start(
        cls,
        command: Sequence[str],
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
        project_root: Path | str | None = None,
        notification_capacity: int | None = None,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
        stderr_log: Path | None = None,
        host_version: str = "0.1.0",
        max_frame_bytes: int = MAX_FRAME_BYTES,
    ) -> PluginProcess:
        """Spawn ``command`` in its own process group and complete the handshake.

        ``env`` is the complete environment of the child (build it with
        :func:`build_plugin_env`); ``None`` means an empty environment.
        """
        label = name or Path(command[0]).name
        try:
            proc = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=dict(env or {}),
                cwd=str(cwd) if cwd is not None else None,
                start_new_session=True,
            )
        except OSError as exc:
            raise HandshakeError(
                f"plugin {label} could not be started ({command[0]}): {exc}",
                details={"plugin": label, "command": list(command)},
                hint="check that the plugin executable exists and is executable",
            ) from exc
        plugin = cls(
            label,
            proc,
            notification_capacity=notification_capacity or DEFAULT_NOTIFICATION_CAPACITY,
            stderr_log=stderr_log,
            max_frame_bytes=max_frame_bytes,
        )
        try:
            await plugin._handshake(handshake_timeout, project_root, host_version)
        except BaseException:
            await plugin.kill()
            raise
        return plugin

    async def _handshake(
        self,
        timeout: float,  # noqa: ASYNC109 - the handshake deadline is a parameter by design
        project_root: Path | str | None,
        host_version: str,
    ) -> None:
        params: dict[str, Any] = {
            "protocol_version": PROTOCOL_VERSION,
            "host_info": {"name": "animus", "version": host_version},
            "capabilities": {"streaming": True, "progress": True, "cancellation": True},
        }
        if project_root is not None:
            params["init_extensions"] = {"project_binding": {"project_root": str(project_root)}}
        try:
            result = await self.call("initialize", params, timeout=timeout)
        except PluginTimeoutError as exc:
            raise HandshakeError(
                f"plugin {self.name} did not answer initialize within {timeout:g} s",
                details={"plugin": self.name, "timeout_s": timeout},
            ) from exc
        except PluginExitedError as exc:
            raise HandshakeError(
                f"plugin {self.name} exited during the initialize handshake: {exc.message}",
                details=exc.details,
            ) from exc
        except PluginCallError as exc:
            raise HandshakeError(
                f"plugin {self.name} rejected initialize: {exc.rpc_message}",
                details=exc.details,
            ) from exc
        if not isinstance(result, dict):
            raise HandshakeError(
                f"plugin {self.name} answered initialize with {type(result).__name__}, "
                "expected an object",
                details={"plugin": self.name},
            )
        theirs = str(result.get("protocol_version", ""))
        if _major(theirs) != _major(PROTOCOL_VERSION):
            raise HandshakeError(
                f"plugin {self.name} speaks protocol {theirs or '(none)'} but the host speaks "
                f"{PROTOCOL_VERSION}: the major versions differ",
                details={"plugin": self.name, "plugin_protocol": theirs},
                hint=f"install a plugin build for protocol major {_major(PROTOCOL_VERSION)}",
            )
        self.initialize_result = result
        self.notify("initialized", {})

    @property
    def plugin_info(self) -> dict[str, Any]:
        info = self.initialize_result.get("plugin_info")
        return info if isinstance(info, dict) else {}

    @property
    def capabilities(self) -> dict[str, Any]:
        caps = self.initialize_result.get("capabilities")
        return caps if isinstance(caps, dict) else {}

    @property
    def alive(self) -> bool:
        return not self._closed.is_set()

    @property
    def uptime(self) -> float:
        return time.monotonic() - self.started_at

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr_tail)

    async def wait_closed(self) -> None:
        """Return once stdout ended and pending calls were failed."""
        await self._closed.wait()

    # -- calls -------------------------------------------------------------------------------

    def _write(self, message: dict[str, Any]) -> None:
        stdin = self._proc.stdin
        if self._closed.is_set() or stdin is None or stdin.is_closing():
            raise self._exited_error("the plugin is not running")
        try:
            stdin.write(encode_frame(message))
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise self._exited_error(f"writing to the plugin failed ({exc})") from exc

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (best effort: silently skipped when the plugin is gone)."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        with contextlib.suppress(PluginHostError):
            self._write(message)

    async def call(self, method: str, params: Any = None, timeout: float | None = None) -> Any:  # noqa: ASYNC109 - per-call RPC deadline
        """Send a request and await its result.

        Raises :class:`PluginCallError` for an error response, :class:`PluginTimeoutError`
        (-32003, after sending ``$/cancelRequest``) when ``timeout`` passes, and
        :class:`PluginExitedError` when the process dies first.
        """
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            self._write(message)
        except PluginExitedError:
            # Gone already: let the reader collect the exit status and stderr tail first.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await self._closed.wait()
            raise self._exited_error("the plugin exited") from None
        self._pending[request_id] = (method, future)
        stdin = self._proc.stdin
        if stdin is not None and stdin.transport.get_write_buffer_size() > (1 << 20):
            with contextlib.suppress(ConnectionError):
                await stdin.drain()
        try:
            if timeout is None:
                return await future
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            self._pending.pop(request_id, None)
            self.notify("$/cancelRequest", {"id": request_id})
            raise PluginTimeoutError(
                f"no response within {timeout:g} s",
                plugin=self.name,
                method=method,
                rpc_code=_TIMEOUT_CODE,
                data={"category": "timeout"},
            ) from None
        except asyncio.CancelledError:
            if self._pending.pop(request_id, None) is not None:
                self.notify("$/cancelRequest", {"id": request_id})
            raise

    async def ping(self, timeout: float = 1.0) -> float:  # noqa: ASYNC109 - per-call RPC deadline
        """Round-trip ``$/ping``; returns seconds taken."""
        started = time.perf_counter()
        await self.call("$/ping", {}, timeout=timeout)
        return time.perf_counter() - started

    # -- notifications -----------------------------------------------------------------------

    def subscribe(
        self, capacity: int | None = None, methods: Sequence[str] | None = None
    ) -> Subscription:
        """A new bounded subscription (default capacity: this plugin's configured one)."""
        sub = Subscription(
            capacity or self.notification_capacity,
            frozenset(methods) if methods is not None else None,
            on_close=self._forget_subscriber,
        )
        if self._closed.is_set():
            sub.close(self.closed_reason or "plugin closed")
        else:
            self._subscribers.append(sub)
        return sub

    def _forget_subscriber(self, sub: Subscription) -> None:
        if sub.dropped and sub.closed_reason:
            self.dropped_subscribers.append(sub.closed_reason)
            log.warning("plugin %s: %s", self.name, sub.closed_reason)
        with contextlib.suppress(ValueError):
            self._subscribers.remove(sub)

    # -- reader ------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        decoder = FrameDecoder(self._max_frame_bytes)
        reason = "stdout closed"
        try:
            while True:
                chunk = await stdout.read(_READ_CHUNK)
                if not chunk:
                    break
                for item in decoder.feed(chunk):
                    if isinstance(item, FrameError):
                        self.frame_errors += 1
                        log.warning("plugin %s: skipped a bad frame: %s", self.name, item)
                    else:
                        self._dispatch(item)
        except Exception as exc:  # the reader must end cleanly whatever happens
            reason = f"reader failed: {exc!r}"
            log.exception("plugin %s: reader failed", self.name)
        finally:
            with contextlib.suppress(Exception):
                decoder.close()
            await self._on_stdout_closed(reason)

    def _dispatch(self, message: object) -> None:
        if not isinstance(message, dict):
            self.frame_errors += 1
            return
        method = message.get("method")
        if isinstance(method, str):
            if "id" in message:
                self._answer_plugin_request(message["id"], method)
                return
            self.notifications_received += 1
            note = PluginNotification(method, message.get("params"))
            for sub in tuple(self._subscribers):
                sub.offer(note)
            return
        request_id = message.get("id")
        entry = self._pending.pop(request_id, None) if isinstance(request_id, int) else None
        if entry is None:
            self.unknown_responses += 1
            log.info("plugin %s: discarded a response for unknown id %r", self.name, request_id)
            return
        method_name, future = entry
        if future.done():
            return
        error = message.get("error")
        if error is not None:
            if not isinstance(error, dict):
                error = {"code": -32603, "message": repr(error)}
            future.set_exception(
                PluginCallError(
                    str(error.get("message", "")),
                    plugin=self.name,
                    method=method_name,
                    rpc_code=int(error.get("code", -32603)),
                    data=error.get("data"),
                )
            )
        else:
            future.set_result(message.get("result"))

    def _answer_plugin_request(self, request_id: Any, method: str) -> None:
        # The host serves no methods to plugins yet; answer rather than leave them waiting.
        with contextlib.suppress(PluginHostError):
            self._write(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "error": {
                        "code": -32601,
                        "message": f"method '{method}' not implemented by the animus host",
                        "data": {"category": "not_supported"},
                    },
                }
            )

    async def _read_stderr(self) -> None:
        stderr = self._proc.stderr
        assert stderr is not None
        try:
            while True:
                line = await stderr.readline()
                if not line:
                    break
                if self._stderr_file is not None:
                    self._stderr_file.write(line)
                    self._stderr_file.flush()
                self._stderr_tail.append(line.decode("utf-8", "replace").rstrip("\n"))
        except (ValueError, OSError):  # over-long line or closed pipe: keep what we have
            pass
        finally:
            self._stderr_done.set()

    async def _on_stdout_closed(self, reason: str) -> None:
        try:
            async with asyncio.timeout(2.0):
                self.exit_code = await self._proc.wait()
        except TimeoutError:
            reason = f"{reason} but the process is still running"
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await self._stderr_done.wait()
        self.closed_reason = reason
        self._closed.set()
        error = self._exited_error("the plugin exited")
        for _method, future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        for sub in tuple(self._subscribers):
            sub.close(f"plugin {self.name} closed: {reason}")
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    def _exited_error(self, what: str) -> PluginExitedError:
        code = self.exit_code if self.exit_code is not None else self._proc.returncode
        status = f"exit code {code}" if code is not None else "exit code unknown"
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                status = f"killed by {signal.Signals(-code).name}"
        return PluginExitedError(
            f"plugin {self.name}: {what} ({status})",
            plugin=self.name,
            exit_code=code,
            stderr_tail=self.stderr_tail(),
        )

    # -- shutdown ----------------------------------------------------------------------------

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    async def _wait_exit(self, timeout: float) -> bool:  # noqa: ASYNC109 - per-call RPC deadline
        try:
            async with asyncio.timeout(timeout):
                await self._proc.wait()
        except TimeoutError:
            return False
        return True

    async def shutdown(
        self,
        timeout: float = 2.0,  # noqa: ASYNC109 - each shutdown stage has its own deadline
        term_grace: float = 2.0,
        kill_grace: float = 2.0,
    ) -> str:
        """Orderly stop; returns how it ended: ``exited``, ``terminated`` or ``killed``.

        ``shutdown`` request (bounded by ``timeout``), ``exit`` notification, stdin closed;
        then SIGTERM to the process group, then SIGKILL.
        """
        outcome = "exited"
        if self._proc.returncode is None:
            with contextlib.suppress(PluginHostError):
                await self.call("shutdown", None, timeout=timeout)
            self.notify("exit")
            stdin = self._proc.stdin
            if stdin is not None:
                with contextlib.suppress(Exception):
                    stdin.close()
            if not await self._wait_exit(timeout):
                outcome = "terminated"
                self._signal_group(signal.SIGTERM)
                if not await self._wait_exit(term_grace):
                    outcome = "killed"
                    self._signal_group(signal.SIGKILL)
                    await self._wait_exit(kill_grace)
        # Children left in the plugin's group would be orphans: end them too.
        self._signal_group(signal.SIGKILL)
        await self._finish_tasks()
        return outcome

    async def terminate(self, grace: float = 0.5) -> None:
        """SIGTERM the process group (a chance to clean up its children), SIGKILL after
        ``grace`` seconds."""
        self._signal_group(signal.SIGTERM)
        if not await self._wait_exit(grace):
            self._signal_group(signal.SIGKILL)
            await self._wait_exit(5.0)
        await self._finish_tasks()

    async def kill(self) -> None:
        """SIGKILL the whole process group and wait for the reader to finish."""
        self._signal_group(signal.SIGKILL)
        await self._wait_exit(5.0)
        await self._finish_tasks()

    async def _finish_tasks(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self._closed.wait()
        for task in (self._reader, self._stderr_reader):
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
