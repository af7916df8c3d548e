"""Reaching a local Unix socket: long paths, and the fire-and-forget ``daemon/nudge``.

Unix socket paths longer than ``sun_path`` (~107 bytes) still work on Linux when reached
through ``/proc/self/fd/<directory fd>/<name>``: bind and connect resolve it like a path.
Deep ``ANIMUS_HOME`` directories (pytest's temp dirs, for one) need this.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

__all__ = ["MAX_SUN_PATH", "send_nudge", "socket_address"]

MAX_SUN_PATH = 100  # conservative: 108 minus the terminating NUL and some headroom


@contextlib.contextmanager
def socket_address(path: str | os.PathLike[str]) -> Iterator[str]:
    """A path to bind or connect to for ``path`` (valid inside the ``with`` block)."""
    text = str(path)
    if len(text.encode()) <= MAX_SUN_PATH or not os.path.isdir("/proc/self/fd"):
        yield text
        return
    target = Path(text)
    fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{target.name}"
    finally:
        os.close(fd)


def send_nudge(socket_path: str | os.PathLike[str], reason: str) -> bool:
    """Tell a daemon listening on ``socket_path`` to wake now; never raises, never waits.

    A ``daemon/nudge`` notification is written and the connection closed without reading a
    reply: the kernel queues the connection and the bytes, so the caller (which may be the
    daemon itself, calling the services from its own event loop) is never blocked on the
    daemon. False when no daemon listens.
    """
    if not os.path.exists(socket_path):
        return False
    frame = {"jsonrpc": "2.0", "method": "daemon/nudge", "params": {"reason": reason}}
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        with socket_address(socket_path) as address:
            sock.connect(address)
        sock.send(json.dumps(frame).encode() + b"\n")
    except OSError:
        return False
    finally:
        sock.close()
    return True
