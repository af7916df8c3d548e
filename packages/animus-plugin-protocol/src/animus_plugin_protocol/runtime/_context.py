"""What a handler gets besides its params: the request's identity, cancellation, and a way
to send notifications."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from animus_plugin_protocol._lifecycle import InitializeParams, LogLevel

__all__ = ["RequestContext"]


class RequestContext:
    """Per-request context handed to every handler.

    ``cancelled`` is set when the host sends ``$/cancelRequest`` for this request (the handler
    task is also cancelled, so ``await`` points raise `asyncio.CancelledError`; clean up in
    ``finally``). `notify` writes a notification frame at once.
    """

    __slots__ = ("_send", "cancelled", "init_params", "method", "plugin_name", "request_id")

    def __init__(
        self,
        *,
        request_id: int | str,
        method: str,
        plugin_name: str,
        init_params: InitializeParams | None,
        send: Callable[[str, Any], None],
    ) -> None:
        self.request_id = request_id
        self.method = method
        self.plugin_name = plugin_name
        self.init_params = init_params
        self.cancelled = asyncio.Event()
        self._send = send

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (a dict or a wire model as params) to the host now."""
        self._send(method, params)

    def log(self, level: LogLevel, message: str, **fields: Any) -> None:
        """Send a ``log/entry`` notification (structured log line for the host)."""
        ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self._send(
            "log/entry",
            {
                "level": level,
                "target": self.plugin_name,
                "message": message,
                "fields": fields,
                "ts": ts,
            },
        )

    @property
    def project_root(self) -> str | None:
        """``init_extensions.project_binding.project_root`` when the host bound one."""
        if self.init_params is None:
            return None
        binding = self.init_params.project_binding()
        return binding.project_root if binding else None
