"""The plugin as a real subprocess over stdio JSON-RPC against a ScriptedModelServer's chat
completions endpoint (real sockets, real files, real shell commands)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from animus_testsupport import ScriptedModelServer

MODEL = "gpt-scripted"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def oai_env(make_env: Any, server: ScriptedModelServer | str, **extra: str) -> dict[str, str]:
    base = server if isinstance(server, str) else server.openai_base_url
    env: dict[str, str] = make_env(OAI_BASE_URL=base, OAI_API_KEY="sk-scripted")
    env.update(extra)
    return env


def run_params(work: Path, state: Path, **fields: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "prompt": "hello",
        "cwd": str(work),
        "model": MODEL,
        "state_dir": str(state),
    }
    params.update(fields)
    return params


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "input": arguments}


def test_manifest_declares_provider_methods_and_sensitive_keys() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "animus_provider_oai", "--manifest"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    manifest = json.loads(out.stdout)
    assert manifest["name"] == "animus-provider-oai"
    assert manifest["plugin_kind"] == "provider"
    assert {"agent/run", "agent/resume", "agent/cancel"} <= set(manifest["capabilities"])
    env = {e["name"]: e for e in manifest["env_required"]}
    assert env["OAI_API_KEY"]["sensitive"] is True
    assert env["OPENAI_API_KEY"]["sensitive"] is True
    assert "OAI_BASE_URL" in env
    assert "OPENAI_BASE_URL" in env


def test_text_streams_deltas_and_answers_with_tokens_and_a_saved_conversation(
    start_plugin: Any, make_env: Any, work: Path, state: Path
) -> None:
    script = [
        {
            "thinking": "Greet them.",
            "text": "Hello from the scripted endpoint.",
            "chunk_size": 5,
            "usage": {"input_tokens": 40, "output_tokens": 9},
        }
    ]
    with ScriptedModelServer(script) as server:
        client = start_plugin(oai_env(make_env, server))
        reply = client.call("agent/run", run_params(work, state, system_prompt="Be terse."))
        (request,) = server.model_requests
    assert "result" in reply, reply
    result = reply["result"]
    assert result["output"] == "Hello from the scripted endpoint."
    assert result["exit_code"] == 0
    assert result["backend"] == "oai:chat-completions"
    assert result["tokens_used"] == {"input": 40, "output": 9}
    assert result["thinking"] == ["Greet them."]
    outputs = client.notes_of("agent/output")
    deltas = [o["text"] for o in outputs if not o["final"]]
    assert len(deltas) > 1
    assert "".join(deltas) == "Hello from the scripted endpoint."
    assert outputs[-1] == {
        "session_id": result["session_id"],
        "text": "Hello from the scripted endpoint.",
        "final": True,
        "is_final": True,
        "kind": "output",
    }
    body = request.body
    assert body["model"] == MODEL
    assert body["stream"] is True
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert [t["function"]["name"] for t in body["tools"]] == [
        "read_file",
        "write_file",
        "edit_file",
        "list_files",
        "shell",
    ]
    assert request.headers["authorization"] == "<redacted>"
    saved = json.loads((state / f"{result['session_id']}.json").read_text())
    assert [m["role"] for m in saved["messages"]] == ["system", "user", "assistant"]


def test_multi_turn_tool_loop_writes_edits_and_runs_a_command_then_resume_continues(
    start_plugin: Any, make_env: Any, work: Path, state: Path
) -> None:
    script = [
        {"tool_calls": [call("write_file", path="src/app.txt", content="version = 1\n")]},
        {
            "match": {"contains": "created src/app.txt"},
            "tool_calls": [
                call("edit_file", path="src/app.txt", old_string="1", new_string="2"),
                call("shell", command="cat src/app.txt > copy.txt && wc -c < copy.txt"),
            ],
        },
        {"match": {"contains": "exit code 0"}, "tool_calls": [call("list_files", path="src")]},
        {"match": {"contains": "app.txt"}, "text": "Bumped the version."},
        {"match": {"contains": "what changed"}, "text": "version is now 2"},
    ]
    with ScriptedModelServer(script) as server:
        client = start_plugin(oai_env(make_env, server))
        first = client.call(
            "agent/run", run_params(work, state, prompt="bump it", session_id="s-1")
        )
        assert "result" in first, first
        assert (work / "src" / "app.txt").read_text() == "version = 2\n"
        assert (work / "copy.txt").read_text() == "version = 2\n"
        result = first["result"]
        assert result["session_id"] == "s-1"
        assert result["output"] == "Bumped the version."
        calls = client.notes_of("agent/toolCall")
        assert [c["name"] for c in calls] == ["write_file", "edit_file", "shell", "list_files"]
        assert calls[1]["arguments"] == {
            "path": "src/app.txt",
            "old_string": "1",
            "new_string": "2",
        }
        results = client.notes_of("agent/toolResult")
        assert all(r["success"] for r in results)
        assert results[2]["output"].startswith("exit code 0")
        assert [t["tool"] for t in result["tool_calls"]] == [c["name"] for c in calls]
        # Each tool result went back to the model as a `tool` message.
        tool_msgs = [m for m in server.model_requests[3].body["messages"] if m["role"] == "tool"]
        assert len(tool_msgs) == 4
        assert result["tokens_used"]["input"] > 0

        second = client.call(
            "agent/resume", run_params(work, state, prompt="what changed", session_id="s-1")
        )
        assert "result" in second, second
        assert second["result"]["output"] == "version is now 2"
        resumed = server.model_requests[-1].body["messages"]
        assert resumed[1] == {"role": "user", "content": "bump it"}
        assert {"role": "assistant", "content": "Bumped the version."} in resumed
        assert resumed[-1] == {"role": "user", "content": "what changed"}
    assert server.remaining_turns == 0


def test_path_escapes_are_refused_and_reported_to_the_model(
    start_plugin: Any, make_env: Any, work: Path, state: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (work / "sneaky").symlink_to(outside)
    script = [
        {
            "tool_calls": [
                call("write_file", path="../escape.txt", content="x"),
                call("write_file", path=str(tmp_path / "abs.txt"), content="x"),
                call("write_file", path="sneaky/through-link.txt", content="x"),
                call("read_file", path="/etc/passwd"),
            ]
        },
        {"match": {"contains": "escapes the working directory"}, "text": "Refused, fine."},
    ]
    with ScriptedModelServer(script) as server:
        client = start_plugin(oai_env(make_env, server))
        reply = client.call("agent/run", run_params(work, state))
    assert reply["result"]["output"] == "Refused, fine."
    results = client.notes_of("agent/toolResult")
    assert [r["success"] for r in results] == [False] * 4
    assert "escapes the working directory" in results[0]["output"]
    assert "absolute path" in results[1]["output"]
    assert "escapes the working directory" in results[2]["output"]
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "abs.txt").exists()
    assert list(outside.iterdir()) == []


def test_cancel_mid_slow_stream_answers_32002_fast(
    start_plugin: Any, make_env: Any, work: Path, state: Path
) -> None:
    script = [{"text": "z" * 400, "chunk_size": 1, "chunk_delay": 0.25}]
    with ScriptedModelServer(script) as server:
        client = start_plugin(oai_env(make_env, server))
        run_id = client.start("agent/run", run_params(work, state, session_id="ctl-1"))
        client.wait_note("agent/output", timeout=30)
        started = time.monotonic()
        cancel = client.call("agent/cancel", {"session_id": "ctl-1"}, timeout=10)
        reply = client.wait(run_id, timeout=10)
        took = time.monotonic() - started
    assert cancel["result"] == {"session_id": "ctl-1", "cancelled": True}
    assert reply["error"]["code"] == -32002
    assert "cancel" in reply["error"]["message"]
    assert took < 10  # bounded; the figure itself is printed, not asserted
    print(f"cancel answered in {took:.3f}s")
    again = client.call("agent/cancel", {"session_id": "ctl-1"})
    assert again["result"]["cancelled"] is False


def test_cancel_during_a_shell_command_kills_it(
    start_plugin: Any, make_env: Any, work: Path, state: Path, procs: Any
) -> None:
    marker = "4917"
    script = [
        {"tool_calls": [call("shell", command=f"echo started > started.txt; sleep {marker}")]}
    ]
    with ScriptedModelServer(script) as server:
        client = start_plugin(oai_env(make_env, server))
        run_id = client.start("agent/run", run_params(work, state, session_id="ctl-2"))
        deadline = time.monotonic() + 30
        while not (work / "started.txt").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        sleepers = [p for p in _pids_with_cmdline(f"sleep {marker}")]
        assert sleepers, "the shell command never started"
        cancel = client.call("agent/cancel", {"session_id": "ctl-2"}, timeout=10)
        reply = client.wait(run_id, timeout=10)
    assert cancel["result"]["cancelled"] is True
    assert reply["error"]["code"] == -32002
    assert _pids_with_cmdline(f"sleep {marker}") == []
    # Resume repairs the interrupted tool call so the endpoint accepts the conversation.
    with ScriptedModelServer(["picked up"]) as server:
        client2 = start_plugin(oai_env(make_env, server))
        reply = client2.call(
            "agent/resume", run_params(work, state, prompt="go on", session_id="ctl-2")
        )
        messages = server.model_requests[0].body["messages"]
    assert reply["result"]["output"] == "picked up"
    assert messages[-2]["content"] == "error: interrupted before the tool finished"


def _pids_with_cmdline(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\x00", b" ").decode()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if text in cmdline and stat.rsplit(")", 1)[1].split()[0] != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(
    ("status", "message", "code", "category"),
    [
        (401, "Incorrect API key provided: sk-scr****", -32603, "run_failed"),
        (429, "Rate limit reached for requests", -32603, "run_failed"),
        (500, "The server had an error while processing your request", -32603, "run_failed"),
    ],
)
def test_http_errors_name_status_and_body(  # noqa: PLR0917 (fixtures + parameters)
    start_plugin: Any,
    make_env: Any,
    work: Path,
    state: Path,
    status: int,
    message: str,
    code: int,
    category: str,
) -> None:
    with ScriptedModelServer([{"error": {"status": status, "message": message}}]) as server:
        client = start_plugin(oai_env(make_env, server))
        reply = client.call("agent/run", run_params(work, state))
    error = reply["error"]
    assert error["code"] == code
    assert error["data"]["category"] == category
    assert f"HTTP {status}" in error["message"]
    assert message in error["message"]
    (fatal,) = [e for e in client.notes_of("agent/error") if not e["recoverable"]]
    assert f"HTTP {status}" in fatal["message"]


def test_unknown_model_is_model_not_supported(
    start_plugin: Any, make_env: Any, work: Path, state: Path
) -> None:
    failure = {
        "error": {
            "status": 404,
            "type": "invalid_request_error",
            "message": "The model `gpt-nope` does not exist",
        }
    }
    with ScriptedModelServer({"turns": [], "default": failure}) as server:
        client = start_plugin(oai_env(make_env, server))
        reply = client.call("agent/run", run_params(work, state, model="gpt-nope"))
        assert server.model_requests[0].model == "gpt-nope"
    error = reply["error"]
    assert error["code"] == -32602
    assert error["data"]["category"] == "model_not_supported"
    assert "gpt-nope" in error["message"]
    assert "HTTP 404" in error["message"]


def test_missing_key_unreachable_endpoint_and_bad_params(
    start_plugin: Any, make_env: Any, work: Path, state: Path, tmp_path: Path
) -> None:
    client = start_plugin(make_env(OAI_BASE_URL="http://127.0.0.1:9/v1"))
    reply = client.call("agent/run", run_params(work, state))
    assert reply["error"]["data"]["category"] == "session_start_failed"
    assert "OAI_API_KEY" in reply["error"]["message"]
    # The key may come in the request env instead; port 9 (discard) refuses the connection.
    reply = client.call("agent/run", run_params(work, state, env={"OAI_API_KEY": "k"}))
    assert reply["error"]["data"]["category"] == "unavailable"
    assert "cannot reach http://127.0.0.1:9/v1/chat/completions" in reply["error"]["message"]
    for bad, expected in [
        ({"model": None}, "needs a 'model'"),
        ({"cwd": str(tmp_path / "absent")}, "not an existing directory"),
        ({"session_id": "../x"}, "not usable as a conversation name"),
        ({"max_iterations": 0}, "max_iterations"),
        ({"base_url": "ftp://x"}, "must be an http(s) URL"),
    ]:
        reply = client.call("agent/run", run_params(work, state, env={"OAI_API_KEY": "k"}, **bad))
        assert reply["error"]["code"] == -32602, (bad, reply)
        assert expected in reply["error"]["message"]
    reply = client.call("agent/resume", run_params(work, state, session_id="never-ran"))
    assert reply["error"]["code"] == -32602
    assert "no oai conversation 'never-ran'" in reply["error"]["message"]


def test_max_iterations_stops_a_looping_model_and_run_refuses_an_existing_id(
    start_plugin: Any, make_env: Any, work: Path, state: Path
) -> None:
    looping = {"tool_calls": [call("list_files")], "times": 0}
    with ScriptedModelServer({"turns": [looping]}) as server:
        client = start_plugin(oai_env(make_env, server))
        reply = client.call(
            "agent/run", run_params(work, state, session_id="l-1", max_iterations=3)
        )
        assert len(server.model_requests) == 3
        again = client.call("agent/run", run_params(work, state, session_id="l-1"))
    assert reply["error"]["data"]["category"] == "run_failed"
    assert "max_iterations" in reply["error"]["message"]
    assert again["error"]["code"] == -32602
    assert "already exists" in again["error"]["message"]


class _RawStream(BaseHTTPRequestHandler):
    """Answers every POST with a fixed SSE body (edge cases the scripted server won't send)."""

    body = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def raw_server() -> Iterator[str]:
    def chunk(delta: dict[str, Any]) -> bytes:
        frame = {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        return b"data: " + json.dumps(frame).encode() + b"\n\n"

    big = "y" * (10 * 1024 * 1024)
    _RawStream.body = (
        chunk({"content": "start "})
        + b'data: {"choices": [{"delta": {"content": "trunc\n\n'
        + chunk({"content": big})
        + chunk({"content": " end"})
        + b"data: [DONE]\n\n"
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RawStream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_truncated_chunk_and_10mb_chunk_are_recoverable(
    start_plugin: Any, make_env: Any, work: Path, state: Path, raw_server: str
) -> None:
    client = start_plugin(oai_env(make_env, raw_server))
    reply = client.call("agent/run", run_params(work, state), timeout=120)
    assert "result" in reply, reply
    output = reply["result"]["output"]
    assert output.startswith("start y")
    assert output.endswith("y end")
    assert len(output) == len("start ") + 10 * 1024 * 1024 + len(" end")
    errors = client.notes_of("agent/error")
    assert len(errors) == 1
    assert errors[0]["recoverable"] is True
    assert "truncated or malformed stream chunk" in errors[0]["message"]


def test_cancel_request_notification_and_timeout_stop_the_run(
    start_plugin: Any, make_env: Any, work: Path, state: Path
) -> None:
    slow = {"text": "z" * 400, "chunk_size": 1, "chunk_delay": 0.25, "times": 0}
    with ScriptedModelServer([slow]) as server:
        client = start_plugin(oai_env(make_env, server))
        run_id = client.start("agent/run", run_params(work, state, session_id="cr-1"))
        client.wait_note("agent/output", timeout=30)
        client.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": run_id}})
        reply = client.wait(run_id, timeout=10)
        assert reply["error"]["code"] == -32002
        timed = client.call(
            "agent/run", run_params(work, state, session_id="to-1", timeout_secs=1), timeout=30
        )
    assert timed["error"]["code"] == -32003
    assert "timed out after 1s" in timed["error"]["message"]
    saved = json.loads((state / "to-1.json").read_text())
    assert saved["messages"][-1] == {"role": "user", "content": "hello"}
