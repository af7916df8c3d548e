"""The shared failure path of CLI-backed providers."""

from __future__ import annotations

from typing import Any

import pytest

from animus_plugin_protocol import AgentRunResponse, RpcError
from animus_plugin_protocol.provider import (
    DeferredFatal,
    ErrorEvent,
    FinalText,
    raise_if_cli_failed,
    stderr_tail,
)


def _response(exit_code: int, errors: list[str]) -> AgentRunResponse:
    return AgentRunResponse(
        session_id="run-1",
        exit_code=exit_code,
        output="partial",
        duration_ms=5,
        backend="t",
        errors=errors,
    )


def test_stderr_tail_keeps_the_last_non_blank_lines() -> None:
    assert stderr_tail(["a", " ", "b", "c"], count=3) == "b | c"
    assert stderr_tail([]) == "(no error output)"


def test_deferred_fatal_holds_back_the_first_fatal_error() -> None:
    lines = {
        "x": [FinalText("hi")],
        "boom": [ErrorEvent("first", recoverable=False), ErrorEvent("warn", recoverable=True)],
        "again": [ErrorEvent("second", recoverable=False)],
    }
    deferred = DeferredFatal(lambda line: lines[line])
    assert deferred.parse_line("x") == [FinalText("hi")]
    assert deferred.parse_line("boom") == [ErrorEvent("warn", recoverable=True)]
    assert deferred.parse_line("again") == []
    assert deferred.fatal == "first"


def test_success_raises_nothing_and_notifies_nothing() -> None:
    sent: list[Any] = []
    raise_if_cli_failed(
        lambda m, p: sent.append(p), cli="x", response=_response(0, []), run_session_id="r"
    )
    assert sent == []


@pytest.mark.parametrize(
    ("exit_code", "fatal", "expected"),
    [
        (2, None, "mycli exited with code 2: disk full"),
        (1, "API Error: 500", "mycli failed (exit code 1): API Error: 500"),
        (0, "turn failed", "mycli failed (exit code 0): turn failed"),
    ],
)
def test_failure_notifies_then_raises_run_failed(
    exit_code: int, fatal: str | None, expected: str
) -> None:
    sent: list[tuple[str, Any]] = []
    with pytest.raises(RpcError) as info:
        raise_if_cli_failed(
            lambda m, p: sent.append((m, p)),
            cli="mycli",
            response=_response(exit_code, ["ignored", "disk full"][-1:]),
            run_session_id="run-1",
            cli_session_id="cli-9",
            fatal=fatal,
        )
    assert info.value.message == expected
    assert info.value.category == "run_failed"
    assert info.value.data["session_id"] == "cli-9"
    assert info.value.data["exit_code"] == exit_code
    assert info.value.data["output"] == "partial"
    ((method, note),) = sent
    assert method == "agent/error"
    assert (note.session_id, note.message, note.recoverable) == ("run-1", expected, False)
