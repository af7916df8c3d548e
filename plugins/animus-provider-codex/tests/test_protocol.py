"""The plugin as a real subprocess over stdio JSON-RPC.

`realcli` tests drive the real `codex` CLI against a ScriptedModelServer (its provider config
comes in the request's ``codex_config`` extra); the others use a small fake CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from animus_testsupport import ScriptedModelServer
from animus_testsupport.clis import require_cli

KEY_VAR = "SCRIPTED_MODEL_API_KEY"


@pytest.fixture
def codex() -> Path:
    return require_cli("codex")


def scripted_config(server: ScriptedModelServer) -> dict[str, Any]:
    return {
        "model": "gpt-5.5",
        "model_provider": "scripted",
        "check_for_update_on_startup": False,
        "analytics": {"enabled": False},
        "model_providers": {
            "scripted": {
                "name": "Scripted model server",
                "base_url": server.openai_base_url,
                "wire_api": "responses",
                "env_key": KEY_VAR,
                "supports_websockets": False,
                "request_max_retries": 0,
                "stream_max_retries": 0,
            }
        },
    }


def run_params(work: Path, server: ScriptedModelServer | None, **fields: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"prompt": "hello", "cwd": str(work), "model": "gpt-5.5"}
    if server is not None:
        params["codex_config"] = scripted_config(server)
        params["env"] = {KEY_VAR: "dummy-scripted-key"}
    params.update(fields)
    return params


def test_manifest_declares_provider_methods_and_env() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "animus_provider_codex", "--manifest"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    manifest = json.loads(out.stdout)
    assert manifest["name"] == "animus-provider-codex"
    assert manifest["plugin_kind"] == "provider"
    assert {"agent/run", "agent/resume", "agent/cancel"} <= set(manifest["capabilities"])
    env = {e["name"]: e for e in manifest["env_required"]}
    assert env["OPENAI_API_KEY"]["sensitive"] is True
    assert "CODEX_BIN" in env
    assert "CODEX_HOME" in env


@pytest.mark.realcli
def test_run_streams_notifications_and_answers_a_full_response(
    codex: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    script = [{"thinking": "Think first.", "text": "Hello from the scripted model."}]
    with ScriptedModelServer(script) as server:
        client = start_plugin(make_env(CODEX_BIN=str(codex)))
        reply = client.call("agent/run", run_params(work, server, system_prompt="Be terse."))
        body = server.model_requests[0].body_text()
    assert "result" in reply, reply
    result = reply["result"]
    thread = [m for m in result["metadata"] if m.get("type") == "codex_thread"]
    assert result["session_id"] == thread[0]["thread_id"]  # codex's resume id
    assert result["exit_code"] == 0
    assert result["output"] == "Hello from the scripted model."
    assert result["backend"] == "codex:codex-exec"
    assert result["duration_ms"] > 0
    assert result["tokens_used"]["input"] > 0
    assert result["tokens_used"]["output"] > 0
    assert result["thinking"] == ["Think first."]
    outputs = client.notes_of("agent/output")
    assert outputs[-1]["final"] is True
    assert client.notes_of("agent/thinking")[0]["text"] == "Think first."
    assert "Be terse." in body  # system_prompt travels as developer instructions
    ids = {n["params"]["session_id"] for n in client.notes if n["method"].startswith("agent/")}
    assert len(ids) == 1  # one control id for the whole run


@pytest.mark.realcli
def test_tool_loop_writes_a_file_then_resume_continues_the_thread(
    codex: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    script = [
        {
            "tool_calls": [
                {
                    "name": "exec_command",
                    "input": {"cmd": "echo codex-ran > made.txt && cat made.txt"},
                }
            ]
        },
        {"match": {"contains": "codex-ran"}, "text": "Created made.txt."},
        {"match": {"contains": "what did you make"}, "text": "I made made.txt."},
    ]
    with ScriptedModelServer(script) as server:
        client = start_plugin(make_env(CODEX_BIN=str(codex)))
        first = client.call("agent/run", run_params(work, server, prompt="make a file"))
        assert "result" in first, first
        assert (work / "made.txt").read_text() == "codex-ran\n"
        calls = client.notes_of("agent/toolCall")
        assert calls[0]["name"] == "shell"
        assert "echo codex-ran" in calls[0]["arguments"]["command"]
        results = client.notes_of("agent/toolResult")
        assert results[0]["success"] is True
        assert results[0]["output"]["exit_code"] == 0
        assert first["result"]["output"] == "Created made.txt."
        thread = first["result"]["session_id"]

        second = client.call(
            "agent/resume",
            run_params(work, server, prompt="what did you make", session_id=thread),
        )
        assert "result" in second, second
        assert second["result"]["session_id"] == thread
        assert second["result"]["output"] == "I made made.txt."
        resumed = server.model_requests[-1].body_text()
        assert "make a file" in resumed
        assert "Created made.txt." in resumed
    assert server.remaining_turns == 0


@pytest.mark.realcli
def test_cancel_mid_stream_ends_with_32002_and_kills_the_group(
    codex: Path, start_plugin: Any, make_env: Any, work: Path, procs: Any
) -> None:
    script = [{"text": "z" * 400, "chunk_size": 1, "chunk_delay": 0.25}]
    with ScriptedModelServer(script) as server:
        client = start_plugin(make_env(CODEX_BIN=str(codex)))
        run_id = client.start("agent/run", run_params(work, server, session_id="ctl-1"))
        deadline = time.monotonic() + 30
        while not server.model_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.model_requests, "codex never called the model"
        (leader,) = procs.children_of(client.proc.pid)
        assert procs.group_members(leader)
        cancel = client.call("agent/cancel", {"session_id": "ctl-1"}, timeout=10)
        assert cancel["result"] == {"session_id": "ctl-1", "cancelled": True}
        reply = client.wait(run_id, timeout=10)
    assert reply["error"]["code"] == -32002
    assert "cancel" in reply["error"]["message"]
    assert procs.group_members(leader) == []


@pytest.mark.realcli
@pytest.mark.parametrize("status", [400, 500])
def test_model_error_is_an_error_response(
    codex: Path, start_plugin: Any, make_env: Any, work: Path, status: int
) -> None:
    failure = {"error": {"status": status, "message": "scripted bad request"}}
    with ScriptedModelServer({"turns": [failure], "default": failure}) as server:
        client = start_plugin(make_env(CODEX_BIN=str(codex)))
        reply = client.call("agent/run", run_params(work, server))
    error = reply["error"]
    assert error["code"] == -32603
    assert error["data"]["category"] == "run_failed"
    assert error["message"].startswith("codex failed (exit code 1): codex: ")
    assert error["data"]["exit_code"] == 1
    if status == 400:  # codex shows a 4xx body verbatim, a 5xx as a generic notice
        assert "scripted bad request" in error["message"]
    assert error["data"]["session_id"]  # the thread id, for a retry by resume
    fatal = [e for e in client.notes_of("agent/error") if not e["recoverable"]]
    assert len(fatal) == 1


@pytest.mark.realcli
def test_unknown_model_surfaces_the_model_error(
    codex: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    failure = {
        "error": {
            "status": 404,
            "type": "invalid_request_error",
            "message": "The model `gpt-nope-1` does not exist",
        }
    }
    with ScriptedModelServer({"turns": [], "default": failure}) as server:
        client = start_plugin(make_env(CODEX_BIN=str(codex)))
        reply = client.call("agent/run", run_params(work, server, model="gpt-nope-1"))
        assert server.model_requests[0].body["model"] == "gpt-nope-1"  # passed through
    assert "gpt-nope-1" in reply["error"]["message"]
    assert any("gpt-nope-1" in e["message"] for e in client.notes_of("agent/error"))


@pytest.mark.realcli
def test_missing_api_key_variable_is_a_clear_error(
    codex: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    with ScriptedModelServer({"turns": [], "default": {"text": "unused"}}) as server:
        client = start_plugin(make_env(CODEX_BIN=str(codex)))
        reply = client.call("agent/run", run_params(work, server, env={}))
        assert server.model_requests == []
    assert f"Missing environment variable: `{KEY_VAR}`" in reply["error"]["message"]


def test_nonzero_exit_names_the_code_and_stderr(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    body = (
        "import sys\n"
        'print(\'{"type":"thread.started","thread_id":"th-9"}\', flush=True)\n'
        "print('Error: config.toml: unknown field', file=sys.stderr)\n"
        "sys.exit(2)\n"
    )
    cli = fake_cli(body, "codex")
    client = start_plugin(make_env(CODEX_BIN=str(cli)))
    reply = client.call("agent/run", run_params(work, None))
    error = reply["error"]
    assert error["data"]["category"] == "run_failed"
    assert error["data"]["exit_code"] == 2
    assert error["data"]["session_id"] == "th-9"
    assert "exited with code 2" in error["message"]
    assert "config.toml: unknown field" in error["message"]


def test_garbage_and_10mb_lines_are_recoverable(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    body = (
        "import sys, json\n"
        'print(\'{"type":"thread.started","thread_id":"th-1"}\', flush=True)\n'
        'print(\'{"type":"item.comp\', flush=True)\n'
        "sys.stdout.write('{\"x\":\"' + 'x' * (10 * 1024 * 1024) + '\"}\\n')\n"
        "print(json.dumps({'type': 'item.completed',"
        " 'item': {'type': 'agent_message', 'text': 'fine'}}))\n"
        "print(json.dumps({'type': 'turn.completed',"
        " 'usage': {'input_tokens': 3, 'output_tokens': 1}}))\n"
    )
    cli = fake_cli(body, "codex")
    client = start_plugin(make_env(CODEX_BIN=str(cli)))
    reply = client.call("agent/run", run_params(work, None))
    assert "result" in reply, reply
    assert reply["result"]["session_id"] == "th-1"
    assert reply["result"]["output"] == "fine"
    assert reply["result"]["tokens_used"]["input"] == 3
    errors = client.notes_of("agent/error")
    assert all(e["recoverable"] for e in errors)
    messages = " ".join(e["message"] for e in errors)
    assert "truncated or malformed JSON" in messages
    assert "exceeds" in messages


def test_missing_binary_is_session_start_failed(
    start_plugin: Any, make_env: Any, work: Path, tmp_path: Path
) -> None:
    client = start_plugin(make_env(PATH=str(tmp_path)))
    reply = client.call("agent/run", run_params(work, None))
    assert reply["error"]["data"]["category"] == "session_start_failed"
    assert "CODEX_BIN" in reply["error"]["message"]
    reply = client.call("agent/run", run_params(work, None, permission_mode="whatever"))
    assert reply["error"]["code"] == -32602


def test_stream_error_then_exit_is_a_failure_naming_it(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    body = (
        'print(\'{"type":"thread.started","thread_id":"th-5"}\', flush=True)\n'
        'print(\'{"type":"error","message":"Reconnecting... 1/5"}\', flush=True)\n'
        'print(\'{"type":"turn.completed","usage":{"input_tokens":1,"output_tokens":1}}\')\n'
        'print(\'{"type":"error","message":"stream disconnected before completion"}\')\n'
    )
    cli = fake_cli(body, "codex")
    client = start_plugin(make_env(CODEX_BIN=str(cli)))
    reply = client.call("agent/run", run_params(work, None))
    assert reply["error"]["message"] == (
        "codex failed (exit code 0): codex: stream disconnected before completion"
    )
    errors = client.notes_of("agent/error")
    assert [(e["message"], e["recoverable"]) for e in errors] == [
        ("codex: Reconnecting... 1/5", True),
        (reply["error"]["message"], False),
    ]
