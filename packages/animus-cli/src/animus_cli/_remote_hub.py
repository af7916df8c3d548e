"""The service hub a CLI command gets while the project's daemon is up.

``RemoteHub`` wraps the in-process :class:`~animus_core.hub.ServiceHub` (paths, config, the
database and every call that is not allowlisted stay local) and sends each allowlisted
service call (``animus_protocol.control.SERVICE_CALLS``) to the daemon as one ``service/call``
over a single control-socket connection per CLI invocation. The daemon runs the same service
method on its own hub, so the result (or the error, with its exit code) is what the
in-process call would have given.

Failure rules:

* no socket file, a stale one (connection refused), or a daemon that does not serve
  ``service/call`` (older version): silently in process;
* the socket fails during a read-only call: that call (and the rest) runs in process;
* the socket fails after a mutating call was sent: :class:`UnavailableError`, never a retry in
  process, since the daemon may already have applied the change.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub
    from animus_daemon_runtime.client import ControlClient

__all__ = [
    "CALL_TIMEOUT_SECS",
    "NO_DAEMON_ENV",
    "RemoteHub",
    "connect_remote_hub",
    "daemon_routing_disabled",
    "routes_through_daemon",
]

NO_DAEMON_ENV = "ANIMUS_NO_DAEMON"
CONNECT_TIMEOUT_SECS = 2.0
CALL_TIMEOUT_SECS = 120.0
_METHOD_NOT_FOUND = -32601

# The command families whose service calls go to a running daemon. The rest keep their
# in-process hub: daemon lifecycle, demo, mcp, plugins, agents, init, triggers, run output,
# subjects (plugin kinds), and the workflow verbs that execute or steer a run themselves.
_ROUTED_FAMILIES = frozenset({"task", "requirement", "queue", "history", "status", "workflow"})
_LOCAL_WORKFLOW_VERBS = frozenset({"run", "resume", "pause", "cancel", "phase", "config"})


def daemon_routing_disabled(flag: bool = False) -> bool:
    """``--no-daemon`` or ``ANIMUS_NO_DAEMON=1`` (any value but empty/0/false/no)."""
    raw = os.environ.get(NO_DAEMON_ENV, "").strip().lower()
    return flag or raw not in ("", "0", "false", "no")


def routes_through_daemon(command_path: Sequence[str]) -> bool:
    """Whether the command (its names below ``animus``) sends its service calls to a daemon."""
    if not command_path or command_path[0] not in _ROUTED_FAMILIES:
        return False
    return not (
        command_path[0] == "workflow"
        and len(command_path) > 1
        and command_path[1] in _LOCAL_WORKFLOW_VERBS
    )


def connect_remote_hub(local: ServiceHub) -> RemoteHub | None:
    """A RemoteHub over a fresh connection, or None when no daemon listens."""
    socket_path = local.paths.control_sock
    try:
        if not socket_path.exists():
            return None
    except OSError:
        return None
    from animus_daemon_runtime.client import ControlClient

    try:
        client = ControlClient(socket_path, timeout=CONNECT_TIMEOUT_SECS)
    except OSError:
        return None  # a stale socket file: nobody accepts
    return RemoteHub(local, client)


class _ServiceProxy:
    """One service of the hub: allowlisted methods go to the daemon, the rest stay local."""

    def __init__(self, hub: RemoteHub, service: str, methods: frozenset[str]) -> None:
        self._hub = hub
        self._service = service
        self._methods = methods

    def __getattr__(self, name: str) -> Any:
        if name not in self._methods:
            return getattr(getattr(self._hub.local, self._service), name)
        hub, service = self._hub, self._service

        def remote_call(*args: Any, **kwargs: Any) -> Any:
            return hub.call(service, name, args, kwargs)

        remote_call.__name__ = name
        remote_call.__qualname__ = f"{service}.{name}"
        return remote_call

    def __repr__(self) -> str:
        return f"<remote {self._service} service>"


class RemoteHub:
    """A :class:`ServiceHub` look-alike whose allowlisted services run in the daemon."""

    def __init__(self, local: ServiceHub, client: ControlClient) -> None:
        from animus_protocol.control import SERVICE_CALLS

        self.local = local
        self.client: ControlClient | None = client
        self.socket_path = Path(client.path)
        self.remote_calls = 0
        self.local_fallbacks = 0
        self._proxies = {
            name: _ServiceProxy(self, name, methods) for name, methods in SERVICE_CALLS.items()
        }

    @property
    def connected(self) -> bool:
        return self.client is not None

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not set in __init__: services, then the local hub.
        proxies = self.__dict__.get("_proxies", {})
        if name in proxies:
            return proxies[name]
        return getattr(self.__dict__["local"], name)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        self.local.close()

    def _run_local(self, service: str, method: str, args: Sequence[Any], kwargs: Any) -> Any:
        self.local_fallbacks += 1
        return getattr(getattr(self.local, service), method)(*args, **kwargs)

    def _drop_client(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def call(self, service: str, method: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """``hub.<service>.<method>(*args, **kwargs)`` in the daemon (see the module doc)."""
        client = self.client
        if client is None:
            return self._run_local(service, method, args, kwargs)
        from animus_protocol.control import (
            SERVICE_CALL_METHOD,
            animus_error_from_control,
            decode_value,
            encode_value,
            is_read_only_call,
            restore_service_error,
        )

        params = {
            "service": service,
            "method": method,
            "args": encode_value(list(args)),
            "kwargs": encode_value(dict(kwargs)),
        }
        try:
            ident = client.request(SERVICE_CALL_METHOD, params)
        except OSError:
            # Not every byte reached the socket, so the daemon cannot have read the request.
            self._drop_client()
            return self._run_local(service, method, args, kwargs)
        try:
            reply = client.wait_reply(ident, CALL_TIMEOUT_SECS)
        except (OSError, ValueError) as exc:  # ConnectionError, TimeoutError, bad JSON
            self._drop_client()
            if is_read_only_call(service, method):
                return self._run_local(service, method, args, kwargs)
            raise self._lost(service, method, exc) from None
        self.remote_calls += 1
        error = reply.get("error")
        if error is not None:
            err = animus_error_from_control(error)
            if _refused_before_running(error, err):
                # An older daemon without service/call (or without this method): nothing
                # ran there, so the in-process call is the whole truth.
                self._drop_client()
                return self._run_local(service, method, args, kwargs)
            raise restore_service_error(err)
        result = reply.get("result")
        value = result.get("value") if isinstance(result, dict) else None
        return decode_value(value)

    def _lost(self, service: str, method: str, exc: BaseException) -> Exception:
        from animus_protocol.envelope import UnavailableError

        return UnavailableError(
            f"lost the daemon's control socket during {service}.{method}: the change may or "
            "may not have been applied",
            details={
                "socket": str(self.socket_path),
                "call": f"{service}.{method}",
                "cause": f"{type(exc).__name__}: {exc}",
            },
            hint="check with a list/get command before retrying; 'animus daemon status' "
            "tells whether the daemon is still up (--no-daemon runs in process)",
        )

    def __repr__(self) -> str:
        return f"RemoteHub({str(self.local.project_root)!r}, socket={str(self.socket_path)!r})"


def _refused_before_running(raw: Any, err: Any) -> bool:
    from animus_protocol.control import raised_by_service
    from animus_protocol.envelope import NotSupportedError

    if isinstance(raw, dict) and raw.get("code") == _METHOD_NOT_FOUND:
        return True  # the server does not know service/call at all
    # The allowlist check refuses before any work; a service's own errors are marked.
    return isinstance(err, NotSupportedError) and not raised_by_service(err)
