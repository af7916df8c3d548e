"""The plugin as a real subprocess over stdio JSON-RPC.

`realcli` tests drive the real `gemini` CLI against a ScriptedModelServer (Gemini API dialect,
``GOOGLE_GEMINI_BASE_URL``); the others use a small fake CLI or no CLI at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from animus_testsupport import ScriptedModelServer
from animus_testsupport.clis import require_cli

MODEL = "gemini-2.5-flash"


@pytest.fixture
def gemini() -> Path:
    return require_cli("gemini")


def gemini_env(make_env: Any, settings_dir: Path, cli: Path, **extra: str) -> dict[str, str]:
    env: dict[str, str] = make_env(
        GEMINI_BIN=str(cli), ANIMUS_GEMINI_SETTINGS_DIR=str(settings_dir)
    )
    env.update(extra)
    return env


def run_params(work: Path, server: ScriptedModelServer | None, **fields: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"prompt": "hello", "cwd": str(work), "model": MODEL}
    if server is not None:
        params["env"] = {"GEMINI_API_KEY": "dummy", "GOOGLE_GEMINI_BASE_URL": server.base_url}
    params.update(fields)
    return params


def test_manifest_declares_provider_methods_and_env() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "animus_provider_gemini", "--manifest"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    manifest = json.loads(out.stdout)
    assert manifest["name"] == "animus-provider-gemini"
    assert manifest["plugin_kind"] == "provider"
    assert {"agent/run", "agent/resume", "agent/cancel"} <= set(manifest["capabilities"])
    env = {e["name"]: e for e in manifest["env_required"]}
    assert env["GEMINI_API_KEY"]["sensitive"] is True
    assert "GEMINI_BIN" in env
    assert "GOOGLE_GEMINI_BASE_URL" in env


@pytest.mark.realcli
def test_run_streams_text_and_answers_a_full_response(
    gemini: Path, start_plugin: Any, make_env: Any, settings_dir: Path, work: Path
) -> None:
    script = [{"text": "Hello from the scripted gemini model.", "chunk_size": 6}]
    with ScriptedModelServer(script) as server:
        client = start_plugin(gemini_env(make_env, settings_dir, gemini))
        reply = client.call("agent/run", run_params(work, server, system_prompt="Be terse."))
        body = server.model_requests[0].body_text()
    assert "result" in reply, reply
    result = reply["result"]
    session = [m for m in result["metadata"] if m.get("type") == "gemini_session"]
    assert result["session_id"] == session[0]["session_id"]
    assert result["exit_code"] == 0
    assert result["output"] == "Hello from the scripted gemini model."
    assert result["backend"] == "gemini:gemini-cli"
    assert result["duration_ms"] > 0
    assert result["tokens_used"]["input"] > 0
    assert result["tokens_used"]["output"] > 0
    outputs = client.notes_of("agent/output")
    assert len([o for o in outputs if not o["final"]]) > 1  # streamed in pieces
    assert outputs[-1]["final"] is True
    assert "Be terse." in body
    ids = {n["params"]["session_id"] for n in client.notes if n["method"].startswith("agent/")}
    assert ids == {result["session_id"]}  # control id == gemini's id (a fresh UUID)
    assert list(settings_dir.iterdir()) == []  # the per-run settings file is removed


@pytest.mark.realcli
def test_tool_loop_writes_a_file_then_resume_continues_the_session(
    gemini: Path, start_plugin: Any, make_env: Any, settings_dir: Path, work: Path
) -> None:
    target = work / "made.txt"
    script = [
        {
            "tool_calls": [
                {
                    "name": "write_file",
                    "input": {"file_path": str(target), "content": "gemini-ran\n"},
                }
            ]
        },
        {"match": {"contains": "made.txt"}, "text": "Created made.txt."},
        {"match": {"contains": "what did you make"}, "text": "I made made.txt."},
    ]
    sid = str(uuid.uuid4())
    with ScriptedModelServer(script) as server:
        client = start_plugin(gemini_env(make_env, settings_dir, gemini))
        first = client.call(
            "agent/run", run_params(work, server, prompt="make a file", session_id=sid)
        )
        assert "result" in first, first
        assert target.read_text() == "gemini-ran\n"
        calls = client.notes_of("agent/toolCall")
        assert calls[0]["name"] == "write_file"
        assert calls[0]["arguments"]["content"] == "gemini-ran\n"
        results = client.notes_of("agent/toolResult")
        assert results[0]["success"] is True
        assert first["result"]["output"] == "Created made.txt."
        assert first["result"]["session_id"] == sid  # the caller's UUID became gemini's id

        second = client.call(
            "agent/resume", run_params(work, server, prompt="what did you make", session_id=sid)
        )
        assert "result" in second, second
        assert second["result"]["session_id"] == sid
        assert second["result"]["output"] == "I made made.txt."
        resumed = server.model_requests[-1].body_text()
        assert "make a file" in resumed
        assert "Created made.txt." in resumed
    assert server.remaining_turns == 0


@pytest.mark.realcli
def test_cancel_mid_stream_ends_with_32002_and_kills_the_group(  # noqa: PLR0917 (fixtures)
    gemini: Path, start_plugin: Any, make_env: Any, settings_dir: Path, work: Path, procs: Any
) -> None:
    script = [{"text": "z" * 400, "chunk_size": 1, "chunk_delay": 0.25}]
    with ScriptedModelServer(script) as server:
        client = start_plugin(gemini_env(make_env, settings_dir, gemini))
        run_id = client.start("agent/run", run_params(work, server, session_id="ctl-1"))
        client.wait_note("agent/output", timeout=60)  # the stream has begun
        (leader,) = procs.children_of(client.proc.pid)
        assert procs.group_members(leader)
        started = time.monotonic()
        cancel = client.call("agent/cancel", {"session_id": "ctl-1"}, timeout=10)
        assert cancel["result"] == {"session_id": "ctl-1", "cancelled": True}
        reply = client.wait(run_id, timeout=10)
        took = time.monotonic() - started
    assert reply["error"]["code"] == -32002
    assert "cancel" in reply["error"]["message"]
    assert procs.group_members(leader) == []
    print(f"cancel took {took:.2f}s")


@pytest.mark.realcli
def test_unknown_model_is_an_error_response_naming_it(
    gemini: Path, start_plugin: Any, make_env: Any, settings_dir: Path, work: Path
) -> None:
    failure = {"error": {"status": 404, "message": "models/gemini-nope is not found"}}
    with ScriptedModelServer({"turns": [], "default": failure}) as server:
        client = start_plugin(gemini_env(make_env, settings_dir, gemini))
        reply = client.call("agent/run", run_params(work, server, model="gemini-nope"))
        assert server.model_requests[0].model == "gemini-nope"  # passed through
    error = reply["error"]
    assert error["code"] == -32603
    assert error["data"]["category"] == "run_failed"
    assert "gemini-nope is not found" in error["message"]
    assert error["data"]["session_id"]
    fatal = [e for e in client.notes_of("agent/error") if not e["recoverable"]]
    assert fatal
    assert "gemini-nope" in fatal[0]["message"]


@pytest.mark.realcli
def test_bad_request_model_error_names_the_status(
    gemini: Path, start_plugin: Any, make_env: Any, settings_dir: Path, work: Path
) -> None:
    failure = {"error": {"status": 400, "message": "scripted bad request"}}
    with ScriptedModelServer({"turns": [], "default": failure}) as server:
        client = start_plugin(gemini_env(make_env, settings_dir, gemini))
        reply = client.call("agent/run", run_params(work, server))
    assert reply["error"]["data"]["category"] == "run_failed"
    assert "scripted bad request" in reply["error"]["message"]
    assert "INVALID_ARGUMENT" in reply["error"]["message"]


def test_missing_api_key_variable_is_a_clear_error(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    cli = fake_cli("raise SystemExit('must not run')", "gemini")
    client = start_plugin(make_env(GEMINI_BIN=str(cli)))
    reply = client.call("agent/run", run_params(work, None))
    assert reply["error"]["data"]["category"] == "session_start_failed"
    assert "GEMINI_API_KEY" in reply["error"]["message"]


def test_missing_binary_is_session_start_failed(
    start_plugin: Any, make_env: Any, work: Path, tmp_path: Path
) -> None:
    client = start_plugin(make_env(PATH=str(tmp_path), GEMINI_API_KEY="k"))
    reply = client.call("agent/run", run_params(work, None))
    assert reply["error"]["data"]["category"] == "session_start_failed"
    assert "GEMINI_BIN" in reply["error"]["message"]
    reply = client.call("agent/run", run_params(work, None, cwd=str(tmp_path / "absent")))
    assert reply["error"]["code"] == -32602
    assert "not an existing directory" in reply["error"]["message"]


def test_settings_under_a_world_writable_directory_are_refused(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path, tmp_path: Path
) -> None:
    cli = fake_cli("raise SystemExit('must not run')", "gemini")
    client = start_plugin(
        make_env(GEMINI_BIN=str(cli), ANIMUS_GEMINI_SETTINGS_DIR=str(tmp_path / "s"))
    )
    servers = {"docs": {"command": "docs-mcp", "args": ["--stdio"]}}
    reply = client.call(
        "agent/run", run_params(work, None, env={"GEMINI_API_KEY": "k"}, mcp_servers=servers)
    )
    assert reply["error"]["data"]["category"] == "session_start_failed"
    assert "ANIMUS_GEMINI_SETTINGS_DIR" in reply["error"]["message"]


def test_fake_cli_sees_argv_settings_and_env(
    fake_cli: Any, start_plugin: Any, make_env: Any, settings_dir: Path, work: Path
) -> None:
    body = (
        "import json, os, sys\n"
        "settings = json.load(open(os.environ['GEMINI_CLI_SYSTEM_SETTINGS_PATH']))\n"
        "seen = {'argv': sys.argv[1:], 'settings': settings,\n"
        "        'trust': os.environ.get('GEMINI_CLI_TRUST_WORKSPACE')}\n"
        "print(json.dumps({'type': 'init', 'session_id': 'g-1', 'model': 'm'}))\n"
        "print(json.dumps({'type': 'message', 'role': 'assistant', 'content': json.dumps(seen),\n"
        "                  'delta': True}))\n"
        "print(json.dumps({'type': 'result', 'status': 'success',\n"
        "                  'stats': {'input_tokens': 3, 'output_tokens': 1}}))\n"
    )
    cli = fake_cli(body, "gemini")
    client = start_plugin(gemini_env(make_env, settings_dir, cli))
    servers = [
        {"name": "docs", "command": "docs-mcp", "args": ["--stdio"], "env": {"T": "1"}},
        {"name": "web", "url": "http://127.0.0.1:9/mcp", "type": "http"},
    ]
    reply = client.call(
        "agent/run",
        run_params(
            work,
            None,
            env={"GEMINI_API_KEY": "k", "NOT_ALLOWED": "x"},
            mcp_servers=servers,
            permission_mode="acceptEdits",
            prompt="-starts with a dash",
        ),
    )
    assert "result" in reply, reply
    seen = json.loads(reply["result"]["output"])
    assert seen["argv"][:1] == ["--session-id"]
    assert seen["argv"][2:] == [
        "--approval-mode",
        "auto_edit",
        "--model",
        MODEL,
        "--output-format",
        "stream-json",
        "--prompt=-starts with a dash",
    ]
    assert seen["settings"]["mcpServers"] == {
        "docs": {"command": "docs-mcp", "args": ["--stdio"], "env": {"T": "1"}},
        "web": {"httpUrl": "http://127.0.0.1:9/mcp"},
    }
    assert seen["settings"]["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert seen["trust"] == "true"
    assert reply["result"]["session_id"] == "g-1"
    assert reply["result"]["tokens_used"]["input"] == 3
    warnings = [e["message"] for e in client.notes_of("agent/error")]
    assert any("NOT_ALLOWED" in w for w in warnings)
    assert list(settings_dir.iterdir()) == []


def test_nonzero_exit_names_the_code_and_stderr(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    body = (
        "import sys\n"
        'print(\'{"type":"init","session_id":"g-9","model":"m"}\', flush=True)\n'
        "print('FatalConfigError: settings.json is broken', file=sys.stderr)\n"
        "sys.exit(52)\n"
    )
    cli = fake_cli(body, "gemini")
    client = start_plugin(make_env(GEMINI_BIN=str(cli), GEMINI_API_KEY="k", HOME=str(work)))
    (work / ".gemini").mkdir()
    (work / ".gemini" / "settings.json").write_text('{"security":{"auth":{"selectedType":"x"}}}')
    reply = client.call("agent/run", run_params(work, None))
    error = reply["error"]
    assert error["data"]["category"] == "run_failed"
    assert error["data"]["exit_code"] == 52
    assert error["data"]["session_id"] == "g-9"
    assert "exited with code 52" in error["message"]
    assert "settings.json is broken" in error["message"]


def test_garbage_and_10mb_lines_are_recoverable(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    body = (
        "import sys, json\n"
        'print(\'{"type":"init","session_id":"g-1","model":"m"}\', flush=True)\n'
        'print(\'{"type":"mess\', flush=True)\n'
        "sys.stdout.write('{\"x\":\"' + 'x' * (10 * 1024 * 1024) + '\"}\\n')\n"
        "print(json.dumps({'type': 'message', 'role': 'assistant', 'content': 'fine',"
        " 'delta': True}))\n"
        "print(json.dumps({'type': 'result', 'status': 'success',"
        " 'stats': {'input_tokens': 3, 'output_tokens': 1}}))\n"
    )
    cli = fake_cli(body, "gemini")
    client = start_plugin(make_env(GEMINI_BIN=str(cli), HOME=str(work)))
    (work / ".gemini").mkdir()
    (work / ".gemini" / "settings.json").write_text('{"security":{"auth":{"selectedType":"x"}}}')
    reply = client.call("agent/run", run_params(work, None))
    assert "result" in reply, reply
    assert reply["result"]["session_id"] == "g-1"
    assert reply["result"]["output"] == "fine"
    assert reply["result"]["tokens_used"]["input"] == 3
    errors = client.notes_of("agent/error")
    assert all(e["recoverable"] for e in errors)
    messages = " ".join(e["message"] for e in errors)
    assert "truncated or malformed JSON" in messages
    assert "exceeds" in messages
