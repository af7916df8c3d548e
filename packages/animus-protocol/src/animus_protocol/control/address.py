"""Re-exports :mod:`animus_protocol.local_socket` under its earlier name.

The helpers live outside this package so that a nudge (sent after every queue or task
change, by the CLI and by every runner) does not import the whole control-method table.
"""

from __future__ import annotations

from animus_protocol.local_socket import MAX_SUN_PATH, send_nudge, socket_address

__all__ = ["MAX_SUN_PATH", "send_nudge", "socket_address"]
