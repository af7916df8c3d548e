"""Session errors and the retryable / not-retryable classification."""

from __future__ import annotations

from dataclasses import dataclass

from animus_plugin_host import (
    HandshakeError,
    PluginCallError,
    PluginExitedError,
    PluginHostError,
    PluginTimeoutError,
    RestartBudgetExhaustedError,
)
from animus_protocol.envelope import AnimusError, NotFoundError, UnavailableError

__all__ = [
    "FailureClass",
    "ProviderNotFoundError",
    "SessionCancelledError",
    "SessionError",
    "SessionNotFoundError",
    "classify_failure",
]

_CANCELLED = -32002


class ProviderNotFoundError(NotFoundError):
    """No provider plugin serves the requested tool."""

    default_code = "provider_not_found"


class SessionNotFoundError(NotFoundError):
    """No active session has that id."""

    default_code = "session_not_found"


class SessionError(UnavailableError):
    """A session turn failed; ``retryable`` says whether running it again may succeed."""

    default_code = "session_failed"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        category: str | None = None,
        session_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        details: dict[str, object] = {"retryable": retryable}
        if category:
            details["category"] = category
        if session_id:
            details["session_id"] = session_id
        super().__init__(message, details=details, hint=hint)
        self.retryable = retryable
        self.category = category
        self.session_id = session_id


class SessionCancelledError(SessionError):
    """The session was cancelled (``agent/cancel`` or -32002)."""

    default_code = "cancelled"


@dataclass(frozen=True)
class FailureClass:
    retryable: bool
    category: str
    reason: str


def classify_failure(exc: BaseException) -> FailureClass:
    """Death-like failures are retryable; structured answers from a live plugin are not."""
    if isinstance(exc, PluginTimeoutError):
        return FailureClass(True, "timeout", exc.message)
    if isinstance(exc, PluginCallError):
        if exc.rpc_code == _CANCELLED:
            return FailureClass(False, "cancelled", exc.rpc_message)
        return FailureClass(False, exc.category or "run_failed", exc.rpc_message)
    if isinstance(exc, RestartBudgetExhaustedError):
        return FailureClass(False, "restart_budget_exhausted", exc.message)
    if isinstance(exc, PluginExitedError):
        return FailureClass(True, "process_exited", exc.message)
    if isinstance(exc, HandshakeError):
        return FailureClass(True, "session_start_failed", exc.message)
    if isinstance(exc, PluginHostError | ConnectionError | EOFError):
        return FailureClass(True, "connection_lost", str(exc))
    if isinstance(exc, AnimusError):
        return FailureClass(False, exc.code, exc.message)
    return FailureClass(True, "other", repr(exc))
