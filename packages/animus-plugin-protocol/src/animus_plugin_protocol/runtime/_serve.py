"""The serve loop: frames in on stdin, frames out on the real stdout, nothing else there.

Each request runs as its own asyncio task, so a slow handler never delays a fast one and
answers may leave in any order. Input is read on the event loop itself (``add_reader`` on a
non-blocking pipe or socket), so a frame is decoded and dispatched in the callback that saw
it arrive, with no thread hand-off; stdin that cannot be polled (a regular file) falls back
to one reader thread. ``$/ping`` is answered straight from the decoded frame, before any
model parsing, since it is the host's liveness probe and carries nothing to validate.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from animus_plugin_protocol._errors import ErrorCode, RpcError
from animus_plugin_protocol._framing import FrameDecoder, FrameError, encode_frame
from animus_plugin_protocol._jsonrpc import (
    InvalidMessage,
    Notification,
    Request,
    parse_message,
)
from animus_plugin_protocol._lifecycle import (
    PROTOCOL_VERSION,
    HealthCheckResult,
    HealthStatus,
    InitializeParams,
    is_compatible,
)

from ._context import RequestContext
from ._plugin import Plugin

__all__ = ["PluginSession", "serve_stdio"]

_READ_CHUNK = 256 * 1024
_QUEUED_CHUNKS = 64  # at most 16 MiB of unread input held in memory
_ALWAYS_ALLOWED = frozenset({"$/ping", "health/check", "shutdown", "exit"})
# Reading pauses while this many handlers run: a host flooding requests is slowed down (its
# writes block on the full pipe) instead of growing this process without bound.
_MAX_IN_FLIGHT = 4096


def _stderr(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(message.rstrip("\n") + "\n")
        sys.stderr.flush()


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        to_wire = getattr(value, "to_wire", None)
        if to_wire is not None:
            return to_wire()
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value


class PluginSession:
    """One connection's state machine; `feed` bytes in, frames go out through ``write``."""

    def __init__(self, plugin: Plugin, write: Callable[[bytes], None]) -> None:
        self.plugin = plugin
        self._write = write
        self._decoder = FrameDecoder()
        self._init_params: InitializeParams | None = None
        self._shutting_down = False
        self.exit_requested = asyncio.Event()
        self._tasks: dict[int | str, tuple[asyncio.Task[None], RequestContext]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._started = time.monotonic()
        self._last_error: str | None = None
        self._drained: tuple[int, Callable[[], None]] | None = None

    # -- output -----------------------------------------------------------------------

    def send(self, message: Any) -> None:
        try:
            frame = encode_frame(message)
        except (TypeError, ValueError) as exc:
            _stderr(f"{self.plugin.name}: dropped an unserializable frame: {exc}")
            return
        self._write(frame)

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = _to_jsonable(params)
        self.send(message)

    def _respond(self, request_id: int | str, result: Any) -> None:
        result = _to_jsonable(result)
        try:
            frame = encode_frame({"jsonrpc": "2.0", "id": request_id, "result": result})
        except (TypeError, ValueError) as exc:
            self._respond_error(
                request_id, RpcError.internal(f"result of the handler is not JSON: {exc}")
            )
            return
        self._write(frame)

    def _respond_error(self, request_id: int | str | None, error: RpcError) -> None:
        if error.code == ErrorCode.INTERNAL_ERROR:
            self._last_error = error.message
        self.send({"jsonrpc": "2.0", "id": request_id, "error": error.to_error_object()})

    # -- input ------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        for item in self._decoder.feed(data):
            if not self._answer_ping(item):
                self._dispatch(item)

    @property
    def in_flight(self) -> int:
        """Handler tasks still running."""
        return len(self._tasks)

    def call_when_drained(self, low_water: int, callback: Callable[[], None]) -> None:
        """Call ``callback`` once fewer than ``low_water`` handlers are running."""
        if len(self._tasks) < low_water:
            callback()
        else:
            self._drained = (low_water, callback)

    def _handler_done(self, request_id: int | str, task: asyncio.Task[None]) -> None:
        entry = self._tasks.get(request_id)
        if entry is not None and entry[0] is task:
            # Cancelled before its first step, so _run_handler never answered: answer here.
            self._tasks.pop(request_id, None)
            if entry[1].cancelled.is_set():
                self._respond_error(
                    request_id, RpcError.cancelled(f"request {request_id!r} cancelled")
                )
        if self._drained is not None and len(self._tasks) < self._drained[0]:
            callback, self._drained = self._drained[1], None
            callback()

    def _answer_ping(self, item: object) -> bool:
        """Answer a well-formed ``$/ping`` request without building any model."""
        if type(item) is not dict or item.get("method") != "$/ping":
            return False
        ident = item.get("id")
        if item.get("jsonrpc") != "2.0" or type(ident) not in (int, str):
            return False  # a notification or a malformed ping takes the general path
        # json.dumps of the id alone keeps strings escaped exactly as encode_frame would.
        self._write(_PING_HEAD + json.dumps(ident).encode("utf-8") + _PING_TAIL)
        return True

    def close_input(self) -> None:
        for error in self._decoder.close():
            _stderr(f"{self.plugin.name}: {error.reason}: {error.excerpt}")

    def _dispatch(self, item: object) -> None:
        if isinstance(item, FrameError):
            _stderr(f"{self.plugin.name}: skipped a bad frame ({item.reason}): {item.excerpt}")
            return
        try:
            message = parse_message(item)
        except InvalidMessage as exc:
            _stderr(f"{self.plugin.name}: ignored a message: {exc}")
            ident = item.get("id") if isinstance(item, dict) else None
            if isinstance(ident, (int, str)) and not isinstance(ident, bool):
                self._respond_error(ident, RpcError(ErrorCode.INVALID_REQUEST, str(exc)))
            return
        if isinstance(message, Request):
            self._on_request(message)
        elif isinstance(message, Notification):
            self._on_notification(message)
        # Responses: this runtime sends no requests to the host, so there is nothing to match.

    def _on_notification(self, message: Notification) -> None:
        method = message.method
        if method == "exit":
            self.exit_requested.set()
        elif method == "$/cancelRequest":
            params = message.params if isinstance(message.params, dict) else {}
            self.cancel(params.get("id"))
        elif method in self.plugin.notification_handlers:
            params = message.params if isinstance(message.params, dict) else {}
            handler = self.plugin.notification_handlers[method]
            self._spawn_background(handler(params), method)
        elif method == "initialized" or method.startswith("$/"):
            return
        else:
            _stderr(f"{self.plugin.name}: ignored notification {method!r}")

    def _on_request(self, message: Request) -> None:
        method = message.method
        request_id = message.id
        if method == "exit":  # some hosts send it with an id
            self._respond(request_id, {})
            self.exit_requested.set()
            return
        if method == "initialize":
            self._initialize(request_id, message.params)
            return
        if method == "$/ping":
            self._respond(request_id, {})
            return
        if method == "shutdown":
            self._shutting_down = True
            self._spawn_background(self._shutdown(request_id), "shutdown")
            return
        if method == "health/check" and "health/check" not in self.plugin.handlers:
            self._respond(request_id, self._health())
            return
        if method not in _ALWAYS_ALLOWED and self._init_params is None:
            self._respond_error(request_id, RpcError.not_initialized())
            return
        if self._shutting_down:
            self._respond_error(
                request_id,
                RpcError(
                    ErrorCode.INVALID_REQUEST, "plugin is shutting down", category="unavailable"
                ),
            )
            return
        handler = self.plugin.handlers.get(method)
        if handler is None:
            self._respond_error(request_id, RpcError.method_not_found(method, self.plugin.name))
            return
        if request_id in self._tasks:
            self._respond_error(
                request_id,
                RpcError(ErrorCode.INVALID_REQUEST, f"request id {request_id!r} is already in use"),
            )
            return
        params = message.params if message.params is not None else {}
        ctx = RequestContext(
            request_id=request_id,
            method=method,
            plugin_name=self.plugin.name,
            init_params=self._init_params,
            send=self.notify,
        )
        task = asyncio.get_running_loop().create_task(self._run_handler(handler, params, ctx))
        self._tasks[request_id] = (task, ctx)
        task.add_done_callback(functools.partial(self._handler_done, request_id))

    async def _run_handler(self, handler: Any, params: Any, ctx: RequestContext) -> None:
        request_id = ctx.request_id
        try:
            if not isinstance(params, dict):
                raise RpcError.invalid_params(
                    f"params of {ctx.method!r} must be an object, got {type(params).__name__}"
                )
            result = await handler(params, ctx)
        except asyncio.CancelledError:
            self._tasks.pop(request_id, None)
            self._respond_error(request_id, RpcError.cancelled(f"request {request_id!r} cancelled"))
            if not ctx.cancelled.is_set():
                raise  # cancelled by the loop itself (exit/EOF), not by the host
            return
        except RpcError as exc:
            self._tasks.pop(request_id, None)
            self._respond_error(request_id, exc)
            return
        except ValidationError as exc:
            self._tasks.pop(request_id, None)
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "params"
            self._respond_error(
                request_id,
                RpcError.invalid_params(
                    f"invalid params for {ctx.method!r}: {where}: {first['msg']}"
                ),
            )
            return
        except Exception as exc:
            self._tasks.pop(request_id, None)
            _stderr(f"{self.plugin.name}: handler for {ctx.method!r} failed: {exc!r}")
            self._respond_error(
                request_id,
                RpcError.internal(f"{ctx.method} failed: {type(exc).__name__}: {exc}"),
            )
            return
        self._tasks.pop(request_id, None)
        self._respond(request_id, {} if result is None else result)

    def cancel(self, request_id: Any) -> bool:
        """``$/cancelRequest``: flag the context and cancel the handler task."""
        entry = self._tasks.get(request_id) if isinstance(request_id, (int, str)) else None
        if entry is None:
            return False
        task, ctx = entry
        ctx.cancelled.set()
        task.cancel()
        return True

    def _spawn_background(self, coro: Any, what: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception as exc:
                _stderr(f"{self.plugin.name}: {what} failed: {exc!r}")

        task = asyncio.get_running_loop().create_task(guarded())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _initialize(self, request_id: int | str, raw: Any) -> None:
        try:
            params = InitializeParams.model_validate(raw if raw is not None else {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "params"
            self._respond_error(
                request_id,
                RpcError.invalid_params(f"invalid initialize params: {where}: {first['msg']}"),
            )
            return
        if not is_compatible(params.protocol_version):
            self._respond_error(
                request_id,
                RpcError.invalid_params(
                    f"incompatible protocol major: host speaks {params.protocol_version!r}, "
                    f"plugin speaks {PROTOCOL_VERSION!r}",
                ),
            )
            return
        self._init_params = params
        self._respond(request_id, self.plugin.initialize_result())

    def _health(self) -> HealthCheckResult:
        return HealthCheckResult(
            status=HealthStatus.HEALTHY if self._last_error is None else HealthStatus.DEGRADED,
            uptime_ms=int((time.monotonic() - self._started) * 1000),
            memory_usage_bytes=_rss_bytes(),
            last_error=self._last_error,
        )

    async def _shutdown(self, request_id: int | str) -> None:
        pending = [task for task, _ in self._tasks.values()]
        if pending:
            await asyncio.wait(pending, timeout=self.plugin.shutdown_grace_secs)
        self._respond(request_id, {})

    async def finish(self, grace: float = 2.0) -> None:
        """Cancel whatever still runs (their ``finally`` blocks get ``grace`` seconds)."""
        tasks = [task for task, _ in self._tasks.values()] + list(self._background)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)


_PING_HEAD = b'{"jsonrpc":"2.0","id":'
_PING_TAIL = b',"result":{}}\n'


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _writer(plugin: Plugin, out_fd: int) -> Callable[[bytes], None]:
    broken = threading.Event()

    def write(frame: bytes) -> None:
        if broken.is_set():
            return
        try:
            _write_all(out_fd, frame)
        except OSError as exc:  # host went away; keep draining input until EOF
            broken.set()
            _stderr(f"{plugin.name}: cannot write to stdout: {exc}")

    return write


async def _serve(plugin: Plugin, in_fd: int, out_fd: int) -> None:
    session = PluginSession(plugin, _writer(plugin, out_fd))
    try:
        if not await _serve_polled(session, in_fd):
            await _serve_threaded(session, in_fd)
    finally:
        await session.finish()


async def _serve_polled(session: PluginSession, in_fd: int) -> bool:
    """Read ``in_fd`` from the event loop; False when it cannot be polled (regular file)."""
    loop = asyncio.get_running_loop()
    was_blocking = os.get_blocking(in_fd)
    os.set_blocking(in_fd, False)
    done = asyncio.Event()
    paused = False

    def on_readable() -> None:
        nonlocal paused
        try:
            data = os.read(in_fd, _READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(in_fd)
            session.close_input()
            done.set()
            return
        session.feed(data)
        if session.in_flight >= _MAX_IN_FLIGHT and not paused:
            paused = True
            loop.remove_reader(in_fd)
            session.call_when_drained(_MAX_IN_FLIGHT // 2, resume)

    def resume() -> None:
        nonlocal paused
        paused = False
        if not done.is_set():
            loop.add_reader(in_fd, on_readable)

    try:
        loop.add_reader(in_fd, on_readable)
    except (OSError, ValueError):  # epoll refuses regular files (EPERM)
        os.set_blocking(in_fd, was_blocking)
        return False
    ended = loop.create_task(done.wait())
    exit_wait = loop.create_task(session.exit_requested.wait())
    try:
        await asyncio.wait({ended, exit_wait}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        done.set()
        ended.cancel()
        exit_wait.cancel()
        loop.remove_reader(in_fd)
        with contextlib.suppress(OSError):
            os.set_blocking(in_fd, was_blocking)
    return True


async def _serve_threaded(session: PluginSession, in_fd: int) -> None:
    """One thread reads ``in_fd`` and hands chunks to the loop (for unpollable input)."""
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_QUEUED_CHUNKS)

    def reader() -> None:
        while True:
            try:
                data = os.read(in_fd, _READ_CHUNK)
            except OSError:
                data = b""
            try:
                # Blocks while the queue is full: a flooding host is slowed down instead of
                # growing this process without bound.
                asyncio.run_coroutine_threadsafe(chunks.put(data), loop).result()
            except (RuntimeError, concurrent.futures.CancelledError):  # loop closed
                return
            if not data:
                return

    threading.Thread(target=reader, name="animus-plugin-stdin", daemon=True).start()
    exit_wait = loop.create_task(session.exit_requested.wait())
    try:
        while True:
            get = loop.create_task(chunks.get())
            done, _ = await asyncio.wait({get, exit_wait}, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                break
            data = get.result()
            if not data:
                session.close_input()
                break
            session.feed(data)
    finally:
        exit_wait.cancel()


def serve_stdio(plugin: Plugin) -> int:
    """Serve on fd 0/1 until ``exit`` or EOF. Stray writes to stdout go to stderr instead."""
    sys.stdout.flush()
    out_fd = os.dup(1)
    os.dup2(2, 1)  # anything else writing to fd 1 (print, child processes) lands on stderr
    saved_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        asyncio.run(_serve(plugin, 0, out_fd))
    except KeyboardInterrupt:
        return 130
    finally:
        sys.stdout = saved_stdout
        os.dup2(out_fd, 1)
        os.close(out_fd)
    return 0
