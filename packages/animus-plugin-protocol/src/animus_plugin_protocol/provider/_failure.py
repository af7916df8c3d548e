"""How a CLI-backed provider reports a failed run (shared by every CLI provider).

A CLI ends a failed turn by printing its error (``result`` with ``is_error``, ``turn.failed``)
and then exiting by itself, saving its session on the way so the turn can be resumed.
`DeferredFatal` holds that non-recoverable error back until the process has exited (passing
it on at once would make the session kill the group mid-shutdown and report a signal instead
of the CLI's exit code); `raise_if_cli_failed` then turns a fatal error or a non-zero exit
into a non-recoverable ``agent/error`` plus a ``run_failed`` error response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from animus_plugin_protocol._errors import ErrorCode, RpcError
from animus_plugin_protocol.kinds.provider import NOTIFY_ERROR, AgentError, AgentRunResponse

from ._events import CliEvent, ErrorEvent

__all__ = [
    "STDERR_TAIL_LINES",
    "DeferredFatal",
    "annotate_run_failure",
    "raise_if_cli_failed",
    "stderr_tail",
]

STDERR_TAIL_LINES = 5


def stderr_tail(lines: Sequence[str], count: int = STDERR_TAIL_LINES) -> str:
    """The last ``count`` non-blank stderr lines joined with `` | `` (for error messages)."""
    picked = [line.strip() for line in lines[-count:] if line.strip()]
    return " | ".join(picked) if picked else "(no error output)"


class DeferredFatal:
    """Wraps a line parser, keeping its first non-recoverable error in ``fatal``."""

    def __init__(self, parse_line: Callable[[str], Iterable[CliEvent]]) -> None:
        self._parse_line = parse_line
        self.fatal: str | None = None

    def parse_line(self, line: str) -> list[CliEvent]:
        events = []
        for event in self._parse_line(line):
            if isinstance(event, ErrorEvent) and not event.recoverable:
                if self.fatal is None:
                    self.fatal = event.message
                continue
            events.append(event)
        return events


def raise_if_cli_failed(
    notify: Callable[[str, Any], None],
    *,
    cli: str,
    response: AgentRunResponse,
    run_session_id: str,
    cli_session_id: str | None = None,
    fatal: str | None = None,
) -> None:
    """Raise ``run_failed`` (after a non-recoverable ``agent/error``) if the run failed.

    ``run_session_id`` is the id the run's notifications carry; ``cli_session_id`` the CLI's
    own (what a resume needs), reported in the error's data.
    """
    if fatal is None and response.exit_code == 0:
        return
    if fatal is not None:
        message = f"{cli} failed (exit code {response.exit_code}): {fatal}"
    else:
        message = f"{cli} exited with code {response.exit_code}: {stderr_tail(response.errors)}"
    notify(NOTIFY_ERROR, AgentError(session_id=run_session_id, message=message, recoverable=False))
    raise RpcError(
        ErrorCode.INTERNAL_ERROR,
        message,
        category="run_failed",
        data={
            "exit_code": response.exit_code,
            "output": response.output,
            "session_id": cli_session_id or run_session_id,
        },
    )


def annotate_run_failure(exc: RpcError, *, cli: str, cli_session_id: str | None) -> RpcError:
    """A ``run_failed`` error from the session, named after the CLI with its exit code and
    carrying the CLI's own session id (what a resume needs); other errors pass unchanged."""
    if exc.category != "run_failed":
        return exc
    data = dict(exc.data) if isinstance(exc.data, dict) else {}
    if cli_session_id:
        data["session_id"] = cli_session_id
    code = data.get("exit_code")
    prefix = f"{cli} failed (exit code {code})" if code is not None else f"{cli} failed"
    return RpcError(exc.code, f"{prefix}: {exc.message}", category=exc.category, data=data)
