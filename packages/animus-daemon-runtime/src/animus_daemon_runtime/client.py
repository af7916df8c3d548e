"""A small synchronous control-socket client (stdlib only on the hot path).

``ControlClient.call`` sends one request and waits for its reply; ``stream`` opens a
subscription and yields its items until ``subscription/closed`` or EOF. Replies and
notifications for other ids read meanwhile are kept, so one connection can multiplex.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from animus_protocol.local_socket import socket_address

__all__ = ["ControlClient", "StreamItem", "daemon_reachable", "nudge"]

StreamItem = tuple[str, Any]


class ControlClient:
    def __init__(self, socket_path: str | Path, *, timeout: float = 10.0) -> None:
        self.path = str(socket_path)
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            with socket_address(self.path) as address:
                self.sock.connect(address)
        except OSError:
            self.sock.close()
            raise
        self._buf = b""
        self._ids = itertools.count(1)
        self._held: deque[dict[str, Any]] = deque()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- framing ---------------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_message(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next frame (``None`` at EOF)."""
        if self._held:
            return self._held.popleft()
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        while b"\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        value = json.loads(line)
        return value if isinstance(value, dict) else {"_raw": value}

    # -- calls -----------------------------------------------------------------------------------

    def request(self, method: str, params: Any = None) -> int:
        ident = next(self._ids)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": ident, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return ident

    def wait_reply(self, ident: Any, timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        kept: list[dict[str, Any]] = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no reply to request {ident} from the daemon")
                message = self.read_message(remaining) if not self._held else self._held.popleft()
                if message is None:
                    raise ConnectionError("the daemon closed the connection")
                if message.get("id") == ident and "method" not in message:
                    return message
                kept.append(message)
        finally:
            self._held.extendleft(reversed(kept))

    def call(self, method: str, params: Any = None, *, timeout: float | None = None) -> Any:
        """The result of ``method``; a control error is raised as its ``AnimusError``."""
        reply = self.wait_reply(self.request(method, params), timeout)
        if "error" in reply:
            from animus_protocol.control import animus_error_from_control

            raise animus_error_from_control(reply["error"])
        return reply.get("result")

    def stream(
        self, method: str, params: Any = None, *, idle_timeout: float | None = None
    ) -> Iterator[StreamItem]:
        """Open a stream; yields ``(notification method, data)``; ends at its
        ``subscription/closed`` (yielded as ``("subscription/closed", reason)``) or EOF."""
        ident = self.request(method, params)
        reply = self.wait_reply(ident)
        if "error" in reply:
            from animus_protocol.control import animus_error_from_control

            raise animus_error_from_control(reply["error"])
        while True:
            try:
                message = self.read_message(idle_timeout)
            except TimeoutError:
                return
            if message is None:
                return
            params_ = message.get("params")
            if not isinstance(params_, dict) or params_.get("id") != ident:
                continue
            if message.get("method") == "subscription/closed":
                yield "subscription/closed", params_.get("reason")
                return
            yield str(message.get("method")), params_.get("data")

    def cancel(self, ident: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": ident}})


def daemon_reachable(socket_path: str | Path) -> bool:
    path = Path(socket_path)
    if not path.exists():
        return False
    try:
        with ControlClient(path, timeout=2.0) as client:
            client.call("daemon/status", timeout=2.0)
    except (OSError, ValueError, TimeoutError, ConnectionError):
        return False
    except Exception:
        return True
    return True


def nudge(socket_path: str | Path, reason: str = "nudge") -> bool:
    """Fire-and-forget ``daemon/nudge``; False when no daemon listens (never raises)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(0.5)
    try:
        with socket_address(socket_path) as address:
            sock.connect(address)
        message = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "daemon/nudge",
            "params": {"reason": reason},
        }
        sock.sendall(json.dumps(message).encode() + b"\n")
        # Wait for the reply so the wake is registered before the caller moves on.
        with contextlib.suppress(OSError):
            sock.recv(4096)
        return True
    except OSError:
        return False
    finally:
        sock.close()
