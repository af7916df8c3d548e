"""``service/call``: run one allowlisted service-hub method for a client, in this process.

The CLI sends its service calls here while a daemon is up, so a change made through the CLI
goes through the same hub (and the same SQLite connections) as the daemon's own work. The
call is checked against the allowlist, its arguments decoded (only Animus classes are
rebuilt), run in a worker thread (the services are synchronous SQLite code and must not
block the event loop), and its result encoded. An ``AnimusError`` from the service travels
with its exit code, so the client re-raises what the in-process call would have raised.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import TYPE_CHECKING, Any

from animus_protocol.control import (
    ServiceCallParams,
    check_service_call,
    decode_value,
    encode_value,
    is_read_only_call,
    mark_service_error,
)
from animus_protocol.envelope import AnimusError, InternalError, InvalidInputError

if TYPE_CHECKING:
    from animus_daemon_runtime.daemon import Daemon

__all__ = ["SERVICE_CALLS_METRIC", "SERVICE_ERRORS_METRIC", "service_call"]

SERVICE_CALLS_METRIC = "control_service_calls_total"
SERVICE_ERRORS_METRIC = "control_service_errors_total"
_SUBJECT_SERVICES = frozenset({"tasks", "requirements"})
_log = logging.getLogger(__name__)


def _bind(target: Any, label: str, args: Any, kwargs: Any) -> tuple[list[Any], dict[str, Any]]:
    """Decode and check the arguments against the method's signature (before running it,
    so a bad call is an ``invalid_request`` and never half-runs)."""
    if not isinstance(args, list):
        raise InvalidInputError(f"service/call args for {label} must be a list")
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise InvalidInputError(f"service/call kwargs for {label} must be an object")
    try:
        inspect.signature(target).bind(*args, **kwargs)
    except TypeError as exc:
        raise InvalidInputError(
            f"bad arguments for {label}: {exc}",
            details={"call": label},
            hint="the client and the daemon may be different versions; restart the daemon",
        ) from None
    return args, kwargs


async def service_call(daemon: Daemon, params: ServiceCallParams) -> dict[str, Any]:
    """The encoded result of ``hub.<service>.<method>(*args, **kwargs)``."""
    service, method = params.service, params.method
    check_service_call(service, method)
    label = f"{service}.{method}"
    daemon.metrics.inc(SERVICE_CALLS_METRIC, service=service, method=method)
    try:
        target = getattr(getattr(daemon.hub, service), method)
        args, kwargs = _bind(
            target, label, decode_value(params.args), decode_value(params.keywords)
        )
        value = await asyncio.to_thread(target, *args, **kwargs)
        encoded = encode_value(value)
    except AnimusError as exc:
        daemon.metrics.inc(SERVICE_ERRORS_METRIC, service=service, method=method)
        raise mark_service_error(exc) from None
    except Exception as exc:
        # A bug in a service: the same message the CLI gives for one in process.
        _log.exception("service/call %s failed", label)
        daemon.metrics.inc(SERVICE_ERRORS_METRIC, service=service, method=method)
        raise mark_service_error(
            InternalError(
                f"unexpected error: {type(exc).__name__}: {exc}",
                details={"call": label},
                hint="see the daemon log (animus daemon logs) and report it as a bug",
            )
        ) from None
    finally:
        if service in _SUBJECT_SERVICES and not is_read_only_call(service, method):
            # The change is in workflow.db already: let subject/watch publish it now
            # rather than at its next poll.
            daemon.subject_watch.poke()
    return {"value": encoded}
