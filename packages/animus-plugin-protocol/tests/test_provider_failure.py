"""The shared failure path of CLI-backed providers."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol import AgentRunResponse, RpcError
from animus_plugin_protocol.provider import (
    DeferredFatal,
    ErrorEvent,
    FinalText,
    ProviderPlugin,
    annotate_run_failure,
    raise_if_cli_failed,
    resolve_cli_binary,
    stderr_tail,
)
from animus_plugin_protocol.testing import PluginClient


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


def test_annotate_run_failure_names_the_cli_and_carries_its_session() -> None:
    failed = RpcError(-32603, "boom", category="run_failed", data={"exit_code": 2})
    annotated = annotate_run_failure(failed, cli="gemini", cli_session_id="cli-7")
    assert annotated.message == "gemini failed (exit code 2): boom"
    assert annotated.data == {"exit_code": 2, "session_id": "cli-7"}
    assert annotated.category == "run_failed"
    bare = RpcError(-32603, "gone", category="run_failed", data=None)
    assert annotate_run_failure(bare, cli="x", cli_session_id=None).message == "x failed: gone"
    other = RpcError(-32602, "bad", category="invalid_params")
    assert annotate_run_failure(other, cli="x", cli_session_id="s") is other


_SUBCLASS_PLUGIN = """
import os
import sys
from animus_plugin_protocol.provider import ProviderPlugin, FinalText

class Echo(ProviderPlugin):
    async def run_request(self, request, ctx, *, resume):
        self.warn(ctx, "run-1", "setting X ignored")
        return await self.run_cli(
            request, ctx, [sys.executable, "-c", "print('done')"],
            env={"PATH": "/usr/bin:/bin"}, session_id="run-1",
            parse_line=lambda line: [FinalText(line)],
        )

if os.environ.get("WHICH") == "echo":
    Echo("animus-echo", "1.0", "echo", env_required=[{"name": "ECHO_KEY"}]).main()
else:
    ProviderPlugin("animus-bare", "1.0", "neither build_command nor run_request").main()
"""


def test_run_cli_and_warn_serve_a_subclass_and_a_bare_plugin_answers_clearly(
    tmp_path: Path,
) -> None:
    script = tmp_path / "plugin.py"
    script.write_text(_SUBCLASS_PLUGIN)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    echo = PluginClient([sys.executable, str(script)], env={**env, "WHICH": "echo"}, cwd=tmp_path)
    try:
        reply = echo.call("agent/run", {"prompt": "hi", "cwd": str(tmp_path)})
        assert reply["result"]["output"] == "done"
        assert reply["result"]["session_id"] == "run-1"
        (warning,) = echo.notes_of("agent/error")
        assert warning["message"] == "setting X ignored"
        assert warning["recoverable"] is True
    finally:
        echo.close()
    bare = PluginClient([sys.executable, str(script)], env=env, cwd=tmp_path)
    try:
        reply = bare.call("agent/run", {"prompt": "hi", "cwd": str(tmp_path)})
        assert "has no build_command/parse_line" in reply["error"]["message"]
    finally:
        bare.close()


def test_declared_env_comes_from_the_manifest() -> None:
    plugin = ProviderPlugin(
        "animus-x", "1.0", "x", env_required=["A_KEY", {"name": "B_URL", "sensitive": False}]
    )
    assert plugin.declared_env == frozenset({"A_KEY", "B_URL"})


def test_resolve_cli_binary_override_path_and_clear_errors(tmp_path: Path) -> None:
    exe = tmp_path / "bin" / "mycli"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    kw = {"var": "MYCLI_BIN", "command": "mycli", "npm_package": "mycli-pkg"}
    assert resolve_cli_binary({"MYCLI_BIN": str(exe)}, **kw) == str(exe)
    assert resolve_cli_binary({"PATH": str(exe.parent)}, **kw) == str(exe)
    with pytest.raises(RpcError) as bad:
        resolve_cli_binary({"MYCLI_BIN": str(tmp_path / "nope")}, **kw)
    assert bad.value.category == "session_start_failed"
    assert f"MYCLI_BIN={tmp_path / 'nope'} is not an executable file" in bad.value.message
    assert "npm package mycli-pkg" in bad.value.message
    with pytest.raises(RpcError) as missing:
        resolve_cli_binary({"PATH": str(tmp_path)}, **kw)
    assert "the mycli CLI was not found on PATH" in missing.value.message
    assert "npm install -g mycli-pkg" in missing.value.message
