"""Agent sessions for Animus: tool to provider resolution, long-lived provider processes,
cancel, resume, failure classification.
"""

from __future__ import annotations

from importlib.metadata import version as _version

from animus_session_host._errors import (
    FailureClass,
    ProviderNotFoundError,
    SessionCancelledError,
    SessionError,
    SessionNotFoundError,
    classify_failure,
)
from animus_session_host._host import EventCallback, SessionEvent, SessionHost
from animus_session_host._pool import PoolStats, ProviderPool
from animus_session_host._tools import (
    BUILTIN_TOOLS,
    DEFAULT_MODELS,
    default_model,
    normalize_tool,
    provider_plugin_name,
)

__version__ = _version("animus-session-host")

__all__ = [
    "BUILTIN_TOOLS",
    "DEFAULT_MODELS",
    "EventCallback",
    "FailureClass",
    "PoolStats",
    "ProviderNotFoundError",
    "ProviderPool",
    "SessionCancelledError",
    "SessionError",
    "SessionEvent",
    "SessionHost",
    "SessionNotFoundError",
    "__version__",
    "classify_failure",
    "default_model",
    "normalize_tool",
    "provider_plugin_name",
]
