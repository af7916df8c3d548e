"""The provider helper against a fake CLI: streaming, aggregation, bad lines, timeout, cancel."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol import RpcError
from animus_plugin_protocol.provider import (
    ErrorEvent,
    FinalText,
    Metadata,
    TextDelta,
    run_cli_session,
    tokens_from_metadata,
)

FAKE_CLI = Path(__file__).parent / "scripts" / "fake_cli.py"
GONE_WAIT_SECS = 10.0


def pid_gone(pid: int) -> bool:
    """True once the pid no longer runs (a zombie awaiting its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + GONE_WAIT_SECS
    while time.monotonic() < deadline:
        if pid_gone(pid):
            return True
        time.sleep(0.05)
    return False


def read_pids(pidfile: Path) -> list[int]:
    deadline = time.monotonic() + GONE_WAIT_SECS
    while time.monotonic() < deadline:
        if pidfile.exists() and pidfile.read_text().endswith("\n"):
            return [int(p) for p in pidfile.read_text().split()]
        time.sleep(0.05)
    raise AssertionError("the fake CLI never wrote its pid file")


def notifications(plugin: Any, method: str) -> list[dict[str, Any]]:
    return [f["params"] for f in plugin.pending if f.get("method") == method]


def test_run_streams_notifications_and_aggregates(spawn_plugin: Any, tmp_path: Path) -> None:
    plugin = spawn_plugin("fake_provider.py")
    caps = plugin.initialize()["result"]["capabilities"]
    assert caps["methods"][:3] == ["agent/run", "agent/resume", "agent/cancel"]
    answer = plugin.request(2, "agent/run", {"prompt": "hi", "cwd": str(tmp_path)})
    result = answer["result"]
    sid = result["session_id"]
    assert result["output"] == "done: hi"
    assert result["exit_code"] == 0
    assert result["backend"] == "fake:cli"
    assert result["duration_ms"] >= 0
    assert result["tokens_used"] == {"input": 12, "output": 34}
    assert result["tool_calls"] == [{"tool": "shell", "arguments": {"command": "ls"}}]
    assert result["tool_results"] == [{"tool": "shell", "output": "a.txt", "success": True}]
    assert result["thinking"] == ["pondering"]
    assert result["errors"] == ["a warning on stderr"]
    assert result["metadata"][0]["session_id"] == "cli-native-1"

    outputs = notifications(plugin, "agent/output")
    assert [o["text"] for o in outputs] == ["Hello, ", "world", "this line is not JSON", "done: hi"]
    assert [o["final"] for o in outputs] == [False, False, False, True]
    assert all(o["final"] == o["is_final"] and o["kind"] == "output" for o in outputs)
    assert all(o["session_id"] == sid for o in outputs)
    (call,) = notifications(plugin, "agent/toolCall")
    assert call == {
        "kind": "toolCall",
        "session_id": sid,
        "name": "shell",
        "arguments": {"command": "ls"},
        "server": None,
    }
    (tool_result,) = notifications(plugin, "agent/toolResult")
    assert tool_result["success"] is True
    (thinking,) = notifications(plugin, "agent/thinking")
    assert thinking["text"] == "pondering"
    (error,) = notifications(plugin, "agent/error")
    assert error == {
        "kind": "error",
        "session_id": sid,
        "message": "a warning on stderr",
        "recoverable": True,
    }
    plugin.close_stdin()
    plugin.wait_exit()
    plugin.assert_stdout_only_frames()


def test_resume_passes_the_session_id(spawn_plugin: Any, tmp_path: Path) -> None:
    plugin = spawn_plugin("fake_provider.py")
    plugin.initialize()
    result = plugin.request(
        2, "agent/resume", {"prompt": "again", "cwd": str(tmp_path), "session_id": "cli-7"}
    )["result"]
    assert result["session_id"] == "cli-7"
    assert result["metadata"][0]["resumed"] == "cli-7"
    missing = plugin.request(3, "agent/resume", {"prompt": "x", "cwd": str(tmp_path)})
    assert missing["error"]["code"] == -32602
    assert "session_id" in missing["error"]["message"]


def test_oversized_line_becomes_an_error_event(spawn_plugin: Any, tmp_path: Path) -> None:
    env = {**os.environ, "FAKE_MAX_LINE": "4096"}
    plugin = spawn_plugin("fake_provider.py", env=env)
    plugin.initialize()
    result = plugin.request(2, "agent/run", {"prompt": "p", "cwd": str(tmp_path), "mode": "huge"})
    assert result["result"]["output"] == "survived"
    (error,) = notifications(plugin, "agent/error")
    assert "exceeds 4096 bytes" in error["message"]
    assert error["recoverable"] is True


def test_nonzero_exit_is_reported_not_raised(spawn_plugin: Any, tmp_path: Path) -> None:
    plugin = spawn_plugin("fake_provider.py")
    plugin.initialize()
    result = plugin.request(2, "agent/run", {"prompt": "p", "cwd": str(tmp_path), "mode": "exit3"})
    assert result["result"]["exit_code"] == 3
    assert result["result"]["output"] == "partial"


def test_fatal_error_ends_the_run(spawn_plugin: Any, tmp_path: Path) -> None:
    plugin = spawn_plugin("fake_provider.py")
    plugin.initialize()
    answer = plugin.request(2, "agent/run", {"prompt": "p", "cwd": str(tmp_path), "mode": "fatal"})
    assert answer["error"]["code"] == -32603
    assert answer["error"]["message"] == "model refused"
    assert answer["error"]["data"]["category"] == "run_failed"
    (error,) = notifications(plugin, "agent/error")
    assert error["recoverable"] is False


def test_bad_cwd_and_bad_params(spawn_plugin: Any, tmp_path: Path) -> None:
    plugin = spawn_plugin("fake_provider.py")
    plugin.initialize()
    missing = tmp_path / "missing"
    answer = plugin.request(2, "agent/run", {"prompt": "p", "cwd": str(missing)})
    assert answer["error"]["code"] == -32603
    assert answer["error"]["data"]["category"] == "session_start_failed"
    assert str(missing) in answer["error"]["message"]
    invalid = plugin.request(3, "agent/run", {"cwd": str(tmp_path)})
    assert invalid["error"]["code"] == -32602
    assert "prompt" in invalid["error"]["message"]


def test_timeout_kills_the_whole_group(spawn_plugin: Any, tmp_path: Path) -> None:
    plugin = spawn_plugin("fake_provider.py")
    plugin.initialize()
    pidfile = tmp_path / "pids"
    params = {
        "prompt": "p",
        "cwd": str(tmp_path),
        "mode": "slow",
        "timeout_secs": 1,
        "pidfile": str(pidfile),
    }
    answer = plugin.request(2, "agent/run", params)
    assert answer["error"]["code"] == -32003
    assert answer["error"]["data"]["category"] == "timeout"
    cli_pid, grandchild_pid = read_pids(pidfile)
    assert wait_gone(cli_pid)
    assert wait_gone(grandchild_pid)


def test_cancel_kills_the_group_and_the_run_answers_32002(
    spawn_plugin: Any, tmp_path: Path
) -> None:
    plugin = spawn_plugin("fake_provider.py")
    plugin.initialize()
    pidfile = tmp_path / "pids"
    params = {
        "prompt": "p",
        "cwd": str(tmp_path),
        "mode": "stubborn",  # ignores SIGTERM: the SIGKILL escalation must happen
        "session_id": "S-1",
        "pidfile": str(pidfile),
    }
    plugin.send({"jsonrpc": "2.0", "id": 2, "method": "agent/run", "params": params})
    cli_pid, grandchild_pid = read_pids(pidfile)
    started = time.monotonic()
    cancel = plugin.request(3, "agent/cancel", {"session_id": "S-1"})
    elapsed = time.monotonic() - started
    assert cancel["result"] == {"session_id": "S-1", "cancelled": True}
    assert elapsed < 1.0, f"cancel took {elapsed:.2f}s"
    run = plugin.wait_response(2)
    assert run["error"]["code"] == -32002
    assert "cancel" in run["error"]["message"]
    assert wait_gone(cli_pid)
    assert wait_gone(grandchild_pid)
    unknown = plugin.request(4, "agent/cancel", {"session_id": "nope"})
    assert unknown["result"] == {"session_id": "nope", "cancelled": False}


def test_cancel_request_on_the_run_also_kills_the_group(spawn_plugin: Any, tmp_path: Path) -> None:
    plugin = spawn_plugin("fake_provider.py")
    plugin.initialize()
    pidfile = tmp_path / "pids"
    params = {"prompt": "p", "cwd": str(tmp_path), "mode": "slow", "pidfile": str(pidfile)}
    plugin.send({"jsonrpc": "2.0", "id": 2, "method": "agent/run", "params": params})
    cli_pid, grandchild_pid = read_pids(pidfile)
    plugin.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 2}})
    assert plugin.wait_response(2)["error"]["code"] == -32002
    assert wait_gone(cli_pid)
    assert wait_gone(grandchild_pid)


def test_run_cli_session_in_process(tmp_path: Path) -> None:
    sent: list[tuple[str, Any]] = []

    def parse(line: str) -> list[Any]:
        if line.startswith("{"):
            return [Metadata({"line": line})]
        if line == "boom":
            raise ValueError("cannot parse")
        return [TextDelta(line), FinalText(line.upper())]

    script = "print('{\"a\": 1}'); print('boom'); print('hello')"
    response = asyncio.run(
        run_cli_session(
            [sys.executable, "-c", script],
            cwd=str(tmp_path),
            env=dict(os.environ),
            session_id="s-1",
            parse_line=parse,
            notify=lambda method, params: sent.append((method, params)),
            backend="test:inline",
        )
    )
    assert response.output == "HELLO"
    assert response.metadata == [{"line": '{"a": 1}'}]
    assert any("cannot parse" in e for e in response.errors)
    assert [m for m, _ in sent] == ["agent/error", "agent/output", "agent/output"]


def test_run_cli_session_missing_binary(tmp_path: Path) -> None:
    with pytest.raises(RpcError) as info:
        asyncio.run(
            run_cli_session(
                [str(tmp_path / "no-such-cli")],
                cwd=str(tmp_path),
                env={},
                session_id="s",
                parse_line=lambda line: [ErrorEvent(line)],
                notify=lambda method, params: None,
                backend="b",
            )
        )
    assert info.value.category == "session_start_failed"
    assert "no-such-cli" in info.value.message


def test_tokens_from_metadata_spellings() -> None:
    claude = {
        "type": "claude_usage",
        "usage": {
            "input_tokens": 5,
            "output_tokens": 6,
            "cache_read_input_tokens": 7,
            "cache_creation_input_tokens": 8,
        },
    }
    tokens = tokens_from_metadata(claude)
    assert tokens is not None
    assert (tokens.input, tokens.output, tokens.cached, tokens.cache_writes) == (5, 6, 7, 8)
    codex = tokens_from_metadata(
        {"usage": {"input_tokens": 1, "cached_input_tokens": 2, "output_tokens": 3}}
    )
    assert codex is not None
    assert codex.cached == 2
    direct = tokens_from_metadata({"tokens_used": {"input": 1, "output": 2}})
    assert direct is not None
    assert direct.output == 2
    assert tokens_from_metadata({"usage": {"input_tokens": "x"}}) is None
    assert tokens_from_metadata("text") is None


def test_stderr_between_identical_final_texts_does_not_duplicate(tmp_path: Path) -> None:
    """stdout and stderr are read concurrently; the order below is one the race produces."""
    from animus_plugin_protocol.provider import CliSession, FinalText

    sent: list[tuple[str, Any]] = []

    def notify(method: str, params: Any) -> None:
        sent.append((method, params))

    session = CliSession(
        ["true"],
        cwd=str(tmp_path),
        env={},
        session_id="s1",
        parse_line=lambda line: [FinalText(line)],
        notify=notify,
        backend="t",
    )
    session._on_stdout_line("done\n")
    session._on_stderr_line("a warning\n")
    session._on_stdout_line("done\n")
    finals = [p for m, p in sent if m == "agent/output" and getattr(p, "final", None) is True]
    assert len(finals) == 1
    assert [m for m, _ in sent].count("agent/error") == 1
