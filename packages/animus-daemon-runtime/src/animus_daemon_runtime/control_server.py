"""The control socket: NDJSON JSON-RPC 2.0 over ``$ANIMUS_HOME/<scope>/control.sock``.

The socket is mode 0600 in a directory only its owner can write, and every connection's
peer uid (``SO_PEERCRED``) must be allowed (by default: only the daemon's own uid). One
connection multiplexes unary calls and streams. Every client has a bounded outgoing buffer:
a client that stops reading has its lagging streams closed with ``buffer_full_lagged``, and
is disconnected when even that cannot be told, so it never slows the daemon or other
clients. Malformed frames, oversized frames and unknown methods get an error reply and the
connection carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from typing import TYPE_CHECKING, Any

from animus_daemon_runtime.bus import Subscription
from animus_plugin_protocol import FrameDecoder, FrameError, encode_frame
from animus_protocol.control import (
    CONTROL_METHODS,
    SUBSCRIPTION_CLOSED,
    control_error_from_exception,
)
from animus_protocol.envelope import AnimusError, PermissionDeniedError
from animus_protocol.local_socket import socket_address

if TYPE_CHECKING:
    from animus_daemon_runtime.daemon import Daemon

__all__ = ["MAX_CONTROL_FRAME_BYTES", "ControlServer"]

MAX_CONTROL_FRAME_BYTES = 1024 * 1024
OUTGOING_FRAMES = 1024


def outgoing_frames() -> int:
    """Frames a connection may have queued (``ANIMUS_CONTROL_OUTGOING_FRAMES``)."""
    raw = os.environ.get("ANIMUS_CONTROL_OUTGOING_FRAMES", "")
    return int(raw) if raw.isdigit() and int(raw) >= 32 else OUTGOING_FRAMES


PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
EXTENSION_METHODS = frozenset({"trigger/fire"})


def peer_uid(sock: socket.socket | None) -> int | None:
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _error(ident: Any, code: int, message: str, category: str) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": ident,
        "error": {
            "code": code,
            "message": message,
            "data": {"category": category, "message": message},
        },
    }


class Connection:
    def __init__(
        self, server: ControlServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.capacity = outgoing_frames()
        self.outgoing: asyncio.Queue[bytes | None] = asyncio.Queue(self.capacity)
        self.streams: dict[Any, tuple[Subscription, asyncio.Task[None]]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    def send(self, message: dict[str, Any]) -> bool:
        """Queue a frame; a client whose buffer is full is cut off (never awaited)."""
        if self.closed:
            return False
        try:
            self.outgoing.put_nowait(encode_frame(message))
        except asyncio.QueueFull:
            self.abort()
            return False
        return True

    def abort(self) -> None:
        if not self.closed:
            self.closed = True
            for sub, _task in self.streams.values():
                sub.close("connection_closed")
            self.writer.transport.abort()

    async def write_loop(self) -> None:
        try:
            while True:
                frame = await self.outgoing.get()
                if frame is None:
                    break
                self.writer.write(frame)
                await self.writer.drain()
        except (ConnectionError, RuntimeError):
            self.abort()

    def notify(self, method: str, params: dict[str, Any]) -> bool:
        return self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def close_stream(self, ident: Any, reason: str) -> None:
        stream = self.streams.pop(ident, None)
        if stream is None:
            return
        sub, task = stream
        sub.close(reason)
        if task is not asyncio.current_task():
            task.cancel()
        self.notify(SUBSCRIPTION_CLOSED, {"id": ident, "reason": reason})


class ControlServer:
    def __init__(
        self,
        daemon: Daemon,
        *,
        allowed_uids: frozenset[int] | None = None,
        max_frame_bytes: int = MAX_CONTROL_FRAME_BYTES,
    ) -> None:
        from animus_daemon_runtime._control_methods import ControlMethods

        self.daemon = daemon
        self.path = daemon.paths.control_sock
        self.allowed_uids = allowed_uids if allowed_uids is not None else frozenset({os.getuid()})
        self.max_frame_bytes = max_frame_bytes
        self.methods = ControlMethods(daemon, self)
        self.connections: set[Connection] = set()
        self._server: asyncio.AbstractServer | None = None
        self.refused = 0

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # ours and stale: we hold the scope lock
        old_umask = os.umask(0o177)
        try:
            with socket_address(self.path) as address:
                self._server = await asyncio.start_unix_server(self._serve, path=address)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        for conn in list(self.connections):
            for ident in list(conn.streams):
                conn.close_stream(ident, "daemon_shutdown")
            with contextlib.suppress(asyncio.QueueFull):
                conn.outgoing.put_nowait(None)
        if self._server is not None:
            self._server.close()
        await asyncio.sleep(0.05)  # let writers flush the closing notifications
        for conn in list(self.connections):
            conn.abort()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        uid = peer_uid(writer.get_extra_info("socket"))
        if uid is not None and uid not in self.allowed_uids:
            self.refused += 1
            self.daemon.events.emit("control-refused", {"uid": uid})
            err = control_error_from_exception(
                PermissionDeniedError(f"uid {uid} may not use this daemon's control socket")
            )
            with contextlib.suppress(ConnectionError):
                writer.write(encode_frame({"jsonrpc": "2.0", "id": None, "error": err.to_wire()}))
                await writer.drain()
                # Closing with the client's request unread would reset the connection before
                # the client reads the refusal: take what it sent (briefly), then close.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reader.read(65536), 0.2)
            writer.close()
            return
        conn = Connection(self, reader, writer)
        self.connections.add(conn)
        writer_task = asyncio.create_task(conn.write_loop())
        decoder = FrameDecoder(self.max_frame_bytes)
        try:
            while not conn.closed:
                try:
                    data = await reader.read(65536)
                except (ConnectionError, OSError):
                    break
                if not data:
                    break
                for item in decoder.feed(data):
                    if isinstance(item, FrameError):
                        conn.send(
                            _error(
                                None,
                                PARSE_ERROR,
                                f"malformed frame: {item.reason}",
                                "invalid_request",
                            )
                        )
                        continue
                    self._dispatch(conn, item)
        finally:
            conn.closed = True
            for sub, task in conn.streams.values():
                sub.close("connection_closed")
                task.cancel()
            conn.streams.clear()
            for task in list(conn.tasks):
                task.cancel()
            with contextlib.suppress(asyncio.QueueFull):
                conn.outgoing.put_nowait(None)
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(writer_task, 1.0)
            writer_task.cancel()
            writer.close()
            self.connections.discard(conn)

    def _dispatch(self, conn: Connection, message: Any) -> None:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            ident = message.get("id") if isinstance(message, dict) else None
            conn.send(
                _error(ident, INVALID_REQUEST, "not a JSON-RPC 2.0 message", "invalid_request")
            )
            return
        method = message.get("method")
        ident = message.get("id")
        if not isinstance(method, str):
            if "result" in message or "error" in message:
                return  # a response to nothing we asked: ignore
            conn.send(
                _error(ident, INVALID_REQUEST, "'method' must be a string", "invalid_request")
            )
            return
        if "id" not in message:
            self._notification(conn, method, message.get("params"))
            return
        if isinstance(ident, bool) or not isinstance(ident, (int, str)):
            conn.send(
                _error(
                    None,
                    INVALID_REQUEST,
                    f"'id' must be a number or a string, got {ident!r}",
                    "invalid_request",
                )
            )
            return
        if method not in CONTROL_METHODS and method not in EXTENSION_METHODS:
            conn.send(
                _error(
                    ident, METHOD_NOT_FOUND, f"unknown control method {method!r}", "not_supported"
                )
            )
            return
        if ident in conn.streams:
            conn.send(
                _error(
                    ident,
                    INVALID_REQUEST,
                    f"id {ident!r} is already an open stream",
                    "invalid_request",
                )
            )
            return
        task = asyncio.create_task(self._call(conn, ident, method, message.get("params")))
        conn.tasks.add(task)
        task.add_done_callback(conn.tasks.discard)

    def _notification(self, conn: Connection, method: str, params: Any) -> None:
        if method == "$/cancelRequest" and isinstance(params, dict) and "id" in params:
            conn.close_stream(params["id"], "cancelled")
        elif method == "daemon/nudge":
            # Fire-and-forget wake-up (the services send it after enqueue, release and
            # status changes); wakes coalesce in the daemon.
            reason = params.get("reason") if isinstance(params, dict) else None
            self.daemon.nudge(reason if isinstance(reason, str) and reason else "nudge")

    async def _call(self, conn: Connection, ident: Any, method: str, params: Any) -> None:
        try:
            result = await self.methods.call(conn, ident, method, params)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not isinstance(exc, AnimusError):
                self.daemon.events.emit(
                    "status", {"control_error": f"{method}: {type(exc).__name__}: {exc}"}
                )
            err = control_error_from_exception(exc)
            conn.send({"jsonrpc": "2.0", "id": ident, "error": err.to_wire()})
            return
        if result is not _STREAM_STARTED:
            conn.send({"jsonrpc": "2.0", "id": ident, "result": result})


_STREAM_STARTED = object()
STREAM_STARTED = _STREAM_STARTED
