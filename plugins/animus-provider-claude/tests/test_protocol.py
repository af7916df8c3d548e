"""The plugin as a real subprocess over stdio JSON-RPC.

`realcli` tests drive the real `claude` CLI against a ScriptedModelServer; the others use a
small fake CLI for what the real one never does on demand (a 10 MB line, garbage output).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from animus_testsupport import ScriptedModelServer
from animus_testsupport.clis import require_cli


@pytest.fixture
def claude() -> Path:
    return require_cli("claude")


def run_params(work: Path, server: ScriptedModelServer | None, **fields: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"prompt": "hello", "cwd": str(work), "model": "claude-sonnet-4-6"}
    if server is not None:
        params["env"] = {
            "ANTHROPIC_BASE_URL": server.base_url,
            "ANTHROPIC_API_KEY": "dummy-scripted-key",
        }
    params.update(fields)
    return params


# -- manifest and handshake ---------------------------------------------------------------


def test_manifest_declares_provider_methods_and_env() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "animus_provider_claude", "--manifest"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    manifest = json.loads(out.stdout)
    assert manifest["name"] == "animus-provider-claude"
    assert manifest["plugin_kind"] == "provider"
    assert {"agent/run", "agent/resume", "agent/cancel"} <= set(manifest["capabilities"])
    env = {e["name"]: e for e in manifest["env_required"]}
    assert env["ANTHROPIC_API_KEY"]["sensitive"] is True
    assert env["CLAUDE_BIN"]["sensitive"] is False
    assert "ANIMUS_CLAUDE_SANDBOXED" in env


# -- real claude ----------------------------------------------------------------------------


@pytest.mark.realcli
def test_run_streams_notifications_and_answers_a_full_response(
    claude: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    script = [{"thinking": "Think first.", "text": "Hello from the scripted model."}]
    with ScriptedModelServer(script) as server:
        client = start_plugin(make_env(CLAUDE_BIN=str(claude), ANIMUS_CLAUDE_SANDBOXED="1"))
        reply = client.call("agent/run", run_params(work, server))
    assert "result" in reply, reply
    result = reply["result"]
    uuid.UUID(result["session_id"])  # claude's own session id
    assert result["exit_code"] == 0
    assert result["output"] == "Hello from the scripted model."
    assert result["backend"] == "claude:claude-native"
    assert result["duration_ms"] > 0
    assert result["tokens_used"]["input"] > 0
    assert result["tokens_used"]["output"] > 0
    assert result["thinking"] == ["Think first."]
    usage = [m for m in result["metadata"] if m.get("type") == "claude_usage"]
    assert usage
    assert usage[0]["cost_usd"] > 0
    init = [m for m in result["metadata"] if m.get("subtype") == "init"]
    assert init[0]["session_id"] == result["session_id"]
    outputs = client.notes_of("agent/output")
    assert outputs[-1]["final"] is True
    assert outputs[-1]["text"] == "Hello from the scripted model."
    agent_notes = [n["params"] for n in client.notes if n["method"].startswith("agent/")]
    assert {n["session_id"] for n in agent_notes} == {result["session_id"]}
    assert client.notes_of("agent/thinking")[0]["text"] == "Think first."
    # the request reached the scripted server with the key forwarded from the request env
    assert server.model_requests[0].body["model"] == "claude-sonnet-4-6"


@pytest.mark.realcli
def test_tool_loop_writes_a_file_then_resume_continues_the_session(
    claude: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    target = work / "notes.txt"
    script = [
        {
            "tool_calls": [
                {"name": "Write", "input": {"file_path": str(target), "content": "one\n"}}
            ]
        },
        {
            "match": {"contains": "File created successfully"},
            "tool_calls": [{"name": "Bash", "input": {"command": "cat notes.txt"}}],
        },
        {"match": {"contains": "one"}, "text": "Wrote notes.txt."},
        {"match": {"contains": "what did you write"}, "text": "I wrote one."},
    ]
    with ScriptedModelServer(script) as server:
        client = start_plugin(make_env(CLAUDE_BIN=str(claude), ANIMUS_CLAUDE_SANDBOXED="1"))
        first = client.call("agent/run", run_params(work, server, prompt="write notes"))
        assert "result" in first, first
        assert target.read_text() == "one\n"
        calls = client.notes_of("agent/toolCall")
        assert [c["name"] for c in calls] == ["Write", "Bash"]
        assert calls[0]["arguments"]["file_path"] == str(target)
        results = client.notes_of("agent/toolResult")
        assert [(r["name"], r["success"]) for r in results] == [("Write", True), ("Bash", True)]
        assert "one" in results[1]["output"]
        assert first["result"]["output"] == "Wrote notes.txt."
        sid = first["result"]["session_id"]

        second = client.call(
            "agent/resume", run_params(work, server, prompt="what did you write", session_id=sid)
        )
        assert "result" in second, second
        assert second["result"]["session_id"] == sid
        assert second["result"]["output"] == "I wrote one."
        resumed = server.model_requests[-1].body_text()
        assert "write notes" in resumed  # the earlier turn travels with the resumed session
        assert "Wrote notes.txt." in resumed
    assert server.remaining_turns == 0


@pytest.mark.realcli
def test_cancel_mid_stream_ends_with_32002_and_kills_the_group(
    claude: Path, start_plugin: Any, make_env: Any, work: Path, procs: Any
) -> None:
    script = [{"text": "z" * 400, "chunk_size": 1, "chunk_delay": 0.25}]
    with ScriptedModelServer(script) as server:
        client = start_plugin(make_env(CLAUDE_BIN=str(claude), ANIMUS_CLAUDE_SANDBOXED="1"))
        run_id = client.start(
            "agent/run",
            run_params(work, server, prompt="stream slowly"),
        )
        # wait (bounded) until the model request is streaming
        deadline = time.monotonic() + 30
        while not server.model_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.model_requests, "claude never called the model"
        (leader,) = procs.children_of(client.proc.pid)
        assert procs.group_members(leader)
        # the control id (notifications, agent/cancel) is the --session-id claude was given
        cmdline = Path(f"/proc/{leader}/cmdline").read_bytes().split(b"\0")
        sid = cmdline[cmdline.index(b"--session-id") + 1].decode()
        cancel = client.call("agent/cancel", {"session_id": sid}, timeout=10)
        assert cancel["result"] == {"session_id": sid, "cancelled": True}
        reply = client.wait(run_id, timeout=10)
    assert reply["error"]["code"] == -32002
    assert "cancel" in reply["error"]["message"]
    assert procs.group_members(leader) == []


@pytest.mark.realcli
def test_model_500_is_an_error_naming_status_and_exit_code(
    claude: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    failure = {"error": {"status": 500, "message": "scripted upstream failure"}}
    with ScriptedModelServer({"turns": [failure], "default": failure}) as server:
        client = start_plugin(make_env(CLAUDE_BIN=str(claude), ANIMUS_CLAUDE_SANDBOXED="1"))
        reply = client.call("agent/run", run_params(work, server))
    error = reply["error"]
    assert error["code"] == -32603
    assert error["data"]["category"] == "run_failed"
    assert error["message"].startswith("claude failed (exit code 1): API Error: 500 scripted")
    assert error["data"]["exit_code"] == 1  # claude exited by itself, not by our kill
    uuid.UUID(error["data"]["session_id"])
    fatal = [e for e in client.notes_of("agent/error") if not e["recoverable"]]
    assert "API Error: 500" in fatal[0]["message"]


@pytest.mark.realcli
def test_unknown_model_surfaces_the_model_error(
    claude: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    script = {
        "turns": [],
        "default": {
            "error": {
                "status": 404,
                "type": "not_found_error",
                "message": "model: claude-nope-9 does not exist",
            }
        },
    }
    with ScriptedModelServer(script) as server:
        client = start_plugin(make_env(CLAUDE_BIN=str(claude), ANIMUS_CLAUDE_SANDBOXED="1"))
        reply = client.call("agent/run", run_params(work, server, model="claude-nope-9"))
        assert server.model_requests[0].body["model"] == "claude-nope-9"  # passed through
    assert "claude-nope-9" in reply["error"]["message"]
    assert any("claude-nope-9" in e["message"] for e in client.notes_of("agent/error"))


@pytest.mark.realcli
def test_missing_api_key_is_a_clear_error(
    claude: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    with ScriptedModelServer({"turns": [], "default": {"text": "unused"}}) as server:
        client = start_plugin(make_env(CLAUDE_BIN=str(claude), ANIMUS_CLAUDE_SANDBOXED="1"))
        params = run_params(work, None, env={"ANTHROPIC_BASE_URL": server.base_url})
        reply = client.call("agent/run", params)
        assert server.model_requests == []
    assert reply["error"]["data"]["category"] == "run_failed"
    assert reply["error"]["message"] == (
        "claude failed (exit code 1): Not logged in · Please run /login"
    )


@pytest.mark.realcli
def test_accept_edits_as_root_needs_no_opt_in(
    claude: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    target = work / "a.txt"
    script = [
        {"tool_calls": [{"name": "Write", "input": {"file_path": str(target), "content": "A"}}]},
        {"match": {"contains": "File created"}, "text": "done"},
    ]
    with ScriptedModelServer(script) as server:
        client = start_plugin(make_env(CLAUDE_BIN=str(claude)))
        reply = client.call("agent/run", run_params(work, server, permission_mode="acceptEdits"))
        if "error" in reply:
            pytest.fail(str(reply))
        denied = client.call("agent/run", run_params(work, server))
    assert target.read_text() == "A"

    if os.geteuid() == 0:
        assert "refuses to skip permission checks" in denied["error"]["message"]


# -- a fake CLI for what the real one never does on demand --------------------------------

_FAKE_STREAM = r"""
import json, sys, os
sid = sys.argv[sys.argv.index("--session-id") + 1]
print(json.dumps({"type": "system", "subtype": "init", "session_id": sid}), flush=True)
print("not json at all", flush=True)
print('{"type":"assistant","message":{"content":[{"type":"te', flush=True)
sys.stdout.write('{"type":"assistant","junk":"' + "x" * (10 * 1024 * 1024) + '"}\n')
sys.stdout.flush()
if "--mcp-config" in sys.argv:
    path = sys.argv[sys.argv.index("--mcp-config") + 1]
    mode = oct(os.stat(path).st_mode & 0o777)
    print("MCP " + mode + " " + path + " " + open(path).read(), flush=True)
print(json.dumps({"type": "assistant", "message": {"content": [{"type": "text", "text": "ok"}]}}))
print(json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": "ok",
                  "session_id": sid, "usage": {"input_tokens": 5, "output_tokens": 2},
                  "total_cost_usd": 0.5}))
"""


def test_garbage_truncated_and_10mb_lines_are_recoverable(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    cli = fake_cli(_FAKE_STREAM, "claude")
    client = start_plugin(make_env(CLAUDE_BIN=str(cli), ANIMUS_CLAUDE_SANDBOXED="1"))
    mcp = {"animus": {"command": "animus", "args": ["mcp", "serve"]}}
    reply = client.call("agent/run", run_params(work, None, mcp_servers=mcp))
    assert "result" in reply, reply
    result = reply["result"]
    assert result["output"] == "ok"
    assert result["tokens_used"] == {"input": 5, "output": 2}
    errors = client.notes_of("agent/error")
    assert all(e["recoverable"] for e in errors)
    messages = " ".join(e["message"] for e in errors)
    assert "truncated or malformed JSON" in messages
    assert "exceeds" in messages  # the 10 MB line, dropped by the line cap
    texts = [n["text"] for n in client.notes_of("agent/output")]
    assert texts[0] == "not json at all"
    mcp_line = next(t for t in texts if t.startswith("MCP "))
    _, mode, path, content = mcp_line.split(" ", 3)
    assert mode == "0o600"
    assert json.loads(content)["mcpServers"]["animus"]["args"] == ["mcp", "serve"]
    assert not Path(path).exists()  # removed after the run


def test_nonzero_exit_names_the_code_and_stderr(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    body = (
        "import sys\n"
        "print('boot', file=sys.stderr)\n"
        "print('fatal: disk on fire', file=sys.stderr)\n"
        "sys.exit(3)\n"
    )
    cli = fake_cli(body, "claude")
    client = start_plugin(make_env(CLAUDE_BIN=str(cli), ANIMUS_CLAUDE_SANDBOXED="1"))
    reply = client.call("agent/run", run_params(work, None))
    error = reply["error"]
    assert error["data"]["category"] == "run_failed"
    assert error["data"]["exit_code"] == 3
    assert "exited with code 3" in error["message"]
    assert "fatal: disk on fire" in error["message"]
    assert client.notes_of("agent/error")[-1]["recoverable"] is False


def test_missing_binary_and_bad_params_are_error_responses(
    start_plugin: Any, make_env: Any, work: Path, tmp_path: Path
) -> None:
    client = start_plugin(make_env(PATH=str(tmp_path), ANIMUS_CLAUDE_SANDBOXED="1"))
    reply = client.call("agent/run", run_params(work, None))
    assert reply["error"]["data"]["category"] == "session_start_failed"
    assert "CLAUDE_BIN" in reply["error"]["message"]
    reply = client.call("agent/run", {"cwd": str(work)})
    assert reply["error"]["code"] == -32602
    assert "prompt" in reply["error"]["message"]
    reply = client.call("agent/resume", run_params(work, None))
    assert "session_id" in reply["error"]["message"]
    reply = client.call("agent/cancel", {"session_id": "nobody"})
    assert reply["result"] == {"session_id": "nobody", "cancelled": False}


@pytest.mark.realcli
def test_stream_partial_streams_live_text_deltas(
    claude: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    script = [{"text": "one two three four", "chunk_size": 4}]
    with ScriptedModelServer(script) as server:
        client = start_plugin(make_env(CLAUDE_BIN=str(claude), ANIMUS_CLAUDE_SANDBOXED="1"))
        reply = client.call("agent/run", run_params(work, server, stream_partial=True))
    assert reply["result"]["output"] == "one two three four"
    deltas = [n["text"] for n in client.notes_of("agent/output") if not n["final"]]
    assert len(deltas) > 1
    assert "".join(deltas) == "one two three four"


def test_timeout_kills_the_cli_and_its_children(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    body = (
        "import json, subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "print(json.dumps({'type': 'system', 'subtype': 'init', 'session_id': 's'}), flush=True)\n"
        "time.sleep(60)\n"
    )
    cli = fake_cli(body, "claude")
    client = start_plugin(make_env(CLAUDE_BIN=str(cli), ANIMUS_CLAUDE_SANDBOXED="1"))
    reply = client.call("agent/run", run_params(work, None, timeout_secs=2), timeout=30)
    assert reply["error"]["code"] == -32003
    assert "timed out after 2s" in reply["error"]["message"]
    child = int(pid_file.read_text())
    stat = Path(f"/proc/{child}/stat")
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
