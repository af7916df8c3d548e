"""The errors the plugin host raises.

Every error is an :class:`animus_protocol.envelope.AnimusError`, so the CLI renders it with
a stable code and exit status. ``retryable`` says whether running the same call again on a
fresh process could succeed (the process died, timed out, or the connection was lost);
structured JSON-RPC errors answered by a live plugin are never retryable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from animus_protocol.envelope import (
    AnimusError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)

__all__ = [
    "HandshakeError",
    "InstallError",
    "LockfileError",
    "PluginCallError",
    "PluginExitedError",
    "PluginHostError",
    "PluginNotFoundError",
    "PluginTimeoutError",
    "RestartBudgetExhaustedError",
    "RouterSetupError",
]

_CATEGORY_CODES = {
    "not_found": "not_found",
    "invalid_request": "invalid_input",
    "invalid_params": "invalid_input",
    "model_not_supported": "invalid_input",
    "permission_denied": "permission_denied",
    "conflict": "conflict",
    "unavailable": "unavailable",
    "unsupported": "not_supported",
    "not_supported": "not_supported",
}


class PluginHostError(AnimusError):
    """Base of the plugin host's errors."""

    retryable: bool = False


class PluginNotFoundError(PluginHostError, NotFoundError):
    """No discovered plugin has the requested name or serves the requested role."""


class HandshakeError(PluginHostError, UnavailableError):
    """The plugin started but the ``initialize`` handshake failed (timeout, version, error)."""

    default_code = "plugin_handshake_failed"


class PluginExitedError(PluginHostError, UnavailableError):
    """The plugin process is gone (crashed, exited, or closed its stdout).

    Carries the process exit status as ``process_exit_code`` (``None`` when unknown; the
    inherited ``exit_code`` stays the CLI exit status) and the tail of its stderr.
    """

    default_code = "plugin_exited"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        plugin: str,
        exit_code: int | None,
        stderr_tail: str = "",
        hint: str | None = None,
    ) -> None:
        details: dict[str, Any] = {"plugin": plugin, "exit_code": exit_code}
        if stderr_tail:
            details["stderr_tail"] = stderr_tail
            message = f"{message}; stderr tail:\n{stderr_tail}"
        super().__init__(message, details=details, hint=hint)
        self.plugin = plugin
        self.process_exit_code = exit_code
        self.stderr_tail = stderr_tail


class PluginCallError(PluginHostError):
    """A plugin answered a request with a JSON-RPC error object.

    ``rpc_code`` is the JSON-RPC code, ``category`` the conventional ``error.data.category``
    (``None`` when absent), ``data`` the raw ``error.data``.
    """

    default_code = "plugin_error"

    def __init__(
        self,
        message: str,
        *,
        plugin: str,
        method: str,
        rpc_code: int,
        data: Any = None,
        hint: str | None = None,
    ) -> None:
        category = data.get("category") if isinstance(data, Mapping) else None
        details: dict[str, Any] = {"plugin": plugin, "method": method, "rpc_code": rpc_code}
        if category:
            details["category"] = category
        super().__init__(
            f"{plugin}: {method} failed ({rpc_code}): {message}",
            details=details,
            hint=hint,
            code=_CATEGORY_CODES.get(str(category), self.default_code) if category else None,
        )
        self.plugin = plugin
        self.method = method
        self.rpc_code = rpc_code
        self.rpc_message = message
        self.category: str | None = str(category) if category else None
        self.data = data

    def to_error_object(self) -> dict[str, Any]:
        """The JSON-RPC ``error`` object this exception came from."""
        obj: dict[str, Any] = {"code": self.rpc_code, "message": self.rpc_message}
        if self.data is not None:
            obj["data"] = self.data
        return obj


class PluginTimeoutError(PluginCallError):
    """The host gave up waiting for a response (-32003); ``$/cancelRequest`` was sent."""

    default_code = "plugin_timeout"
    retryable = True


class RestartBudgetExhaustedError(PluginHostError, UnavailableError):
    """The supervisor restarted the plugin too often and stopped trying."""

    default_code = "plugin_restart_budget_exhausted"


class RouterSetupError(PluginHostError, ConflictError):
    """Two subject backends claim the same kind (exactly, or with equal globs)."""


class InstallError(PluginHostError, InvalidInputError):
    """An install or uninstall could not be carried out."""


class LockfileError(PluginHostError, InvalidInputError):
    """``plugins.lock`` exists but cannot be read; it is left untouched."""
