"""The plugin as a real subprocess over stdio JSON-RPC.

`realcli` tests drive the real `opencode` CLI against a ScriptedModelServer's chat completions
endpoint (its provider config comes in the request's ``opencode_config`` extra); the others
use a small fake CLI or none.
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

MODEL = "scripted/m1"
# Only the agent's own requests offer tools; anything else (a title request) gets the default.
AGENT = {"api": "chat", "body_contains": '"tools"'}


@pytest.fixture
def opencode() -> Path:
    return require_cli("opencode")


def scripted_config(server: ScriptedModelServer, models: tuple[str, ...] = ("m1",)) -> Any:
    return {
        "provider": {
            "scripted": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Scripted model server",
                "options": {"baseURL": server.openai_base_url, "apiKey": "dummy"},
                "models": {m: {"name": m, "tool_call": True} for m in models},
            }
        },
        "autoupdate": False,
        "share": "disabled",
    }


def run_params(work: Path, server: ScriptedModelServer | None, **fields: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"prompt": "hello", "cwd": str(work), "model": MODEL}
    if server is not None:
        params["opencode_config"] = scripted_config(server)
    params.update(fields)
    return params


def oc_env(make_env: Any, cli: Path, **extra: str) -> dict[str, str]:
    env: dict[str, str] = make_env(OPENCODE_BIN=str(cli), OPENCODE_DISABLE_MODELS_FETCH="1")
    env.update(extra)
    return env


def agent_turn(**turn: Any) -> dict[str, Any]:
    match = dict(AGENT)
    match.update(turn.pop("match", {}))
    return {"match": match, **turn}


def test_manifest_declares_provider_methods_and_env() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "animus_provider_opencode", "--manifest"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    manifest = json.loads(out.stdout)
    assert manifest["name"] == "animus-provider-opencode"
    assert manifest["plugin_kind"] == "provider"
    assert {"agent/run", "agent/resume", "agent/cancel"} <= set(manifest["capabilities"])
    env = {e["name"]: e for e in manifest["env_required"]}
    assert env["ANTHROPIC_API_KEY"]["sensitive"] is True
    assert env["OPENAI_API_KEY"]["sensitive"] is True
    assert "OPENCODE_BIN" in env


@pytest.mark.realcli
def test_tool_loop_writes_a_file_runs_a_command_then_resume_continues(
    opencode: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    target = work / "made.txt"
    script = {
        "turns": [
            agent_turn(
                thinking="Plan: write, then check.",
                tool_calls=[
                    {"name": "write", "input": {"filePath": str(target), "content": "oc-ran\n"}}
                ],
            ),
            agent_turn(
                tool_calls=[
                    {"name": "bash", "input": {"command": "cat made.txt", "description": "show"}}
                ]
            ),
            agent_turn(text="Created made.txt."),
            agent_turn(match={"contains": "what did you make"}, text="I made made.txt."),
        ],
        "default": {"text": "unused title"},
    }
    with ScriptedModelServer(script) as server:
        client = start_plugin(oc_env(make_env, opencode))
        first = client.call(
            "agent/run", run_params(work, server, prompt="make a file", system_prompt="Be terse.")
        )
        assert "result" in first, first
        result = first["result"]
        assert target.read_text() == "oc-ran\n"
        calls = client.notes_of("agent/toolCall")
        assert [c["name"] for c in calls] == ["write", "bash"]
        results = client.notes_of("agent/toolResult")
        assert [r["success"] for r in results] == [True, True]
        assert results[1]["output"] == {"output": "oc-ran\n", "exit_code": 0}
        assert result["output"] == "Created made.txt."
        assert result["session_id"].startswith("ses_")
        assert result["exit_code"] == 0
        assert result["backend"] == "opencode:opencode-cli"
        assert result["tokens_used"]["input"] > 0
        assert client.notes_of("agent/thinking")[0]["text"] == "Plan: write, then check."
        assert client.notes_of("agent/output")[-1]["final"] is True
        assert "Be terse." in server.model_requests[0].body_text()
        assert all("tools" in r.body for r in server.model_requests)  # --title: no title call

        second = client.call(
            "agent/resume",
            run_params(work, server, prompt="what did you make", session_id=result["session_id"]),
        )
        assert "result" in second, second
        assert second["result"]["session_id"] == result["session_id"]
        assert second["result"]["output"] == "I made made.txt."
        resumed = server.model_requests[-1].body_text()
        assert "make a file" in resumed
        assert "Created made.txt." in resumed
    assert server.remaining_turns == 0


@pytest.mark.realcli
def test_cancel_mid_stream_ends_with_32002_and_kills_the_group(
    opencode: Path, start_plugin: Any, make_env: Any, work: Path, procs: Any
) -> None:
    script = {
        "turns": [agent_turn(text="z" * 400, chunk_size=1, chunk_delay=0.25)],
        "default": {"text": "title"},
    }
    with ScriptedModelServer(script) as server:
        client = start_plugin(oc_env(make_env, opencode))
        run_id = client.start("agent/run", run_params(work, server, session_id="ctl-1"))
        deadline = time.monotonic() + 60
        while not server.model_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.model_requests, "opencode never called the model"
        time.sleep(0.5)  # well inside the 100 s stream
        (leader,) = procs.children_of(client.proc.pid)
        assert procs.group_members(leader)
        cancel = client.call("agent/cancel", {"session_id": "ctl-1"}, timeout=10)
        assert cancel["result"] == {"session_id": "ctl-1", "cancelled": True}
        reply = client.wait(run_id, timeout=10)
    assert reply["error"]["code"] == -32002
    assert "cancel" in reply["error"]["message"]
    assert procs.group_members(leader) == []


@pytest.mark.realcli
def test_model_errors_are_error_responses_naming_the_status(
    opencode: Path, start_plugin: Any, make_env: Any, work: Path
) -> None:
    unknown = {
        "error": {"status": 404, "message": "The model `m-nope` does not exist"},
        "match": {"model": "m-nope"},
        "times": 0,
    }
    denied = {"error": {"status": 401, "message": "Incorrect API key provided"}}
    with ScriptedModelServer({"turns": [unknown], "default": denied}) as server:
        client = start_plugin(oc_env(make_env, opencode))
        config = scripted_config(server, ("m1", "m-nope"))
        reply = client.call(
            "agent/run", run_params(work, server, model="scripted/m-nope", opencode_config=config)
        )
        assert server.model_requests[0].model == "m-nope"
        error = reply["error"]
        assert error["code"] == -32603
        assert error["data"]["category"] == "run_failed"
        assert "m-nope" in error["message"]
        assert "HTTP 404" in error["message"]
        assert error["data"]["session_id"].startswith("ses_")
        fatal = [e for e in client.notes_of("agent/error") if not e["recoverable"]]
        assert len(fatal) == 1

        reply = client.call("agent/run", run_params(work, server))
    assert "Incorrect API key provided (HTTP 401)" in reply["error"]["message"]


def test_missing_api_key_variable_is_a_clear_error(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    cli = fake_cli("raise SystemExit('must not run')", "opencode")
    client = start_plugin(make_env(OPENCODE_BIN=str(cli)))
    reply = client.call("agent/run", run_params(work, None, model="anthropic/claude-sonnet-4-6"))
    assert reply["error"]["data"]["category"] == "session_start_failed"
    assert "ANTHROPIC_API_KEY" in reply["error"]["message"]


def test_missing_binary_and_bad_params(
    start_plugin: Any, make_env: Any, work: Path, tmp_path: Path
) -> None:
    client = start_plugin(make_env(PATH=str(tmp_path)))
    reply = client.call("agent/run", run_params(work, None))
    assert reply["error"]["data"]["category"] == "session_start_failed"
    assert "OPENCODE_BIN" in reply["error"]["message"]
    reply = client.call("agent/run", run_params(work, None, permission_mode="whatever"))
    assert reply["error"]["code"] == -32602
    assert "permission_mode" in reply["error"]["message"]
    reply = client.call("agent/run", run_params(work, None, opencode_config=[1]))
    assert reply["error"]["code"] == -32602
    reply = client.call("agent/run", run_params(work, None, mcp_servers={"x": {"args": []}}))
    assert reply["error"]["code"] == -32602
    assert "needs a 'command'" in reply["error"]["message"]


def test_fake_cli_sees_argv_and_config(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    body = (
        "import json, os, sys\n"
        "config = json.loads(os.environ['OPENCODE_CONFIG_CONTENT'])\n"
        "seen = {'argv': sys.argv[1:], 'config': config}\n"
        "part = {'text': json.dumps(seen)}\n"
        "print(json.dumps({'type': 'text', 'sessionID': 'ses_f', 'part': part}))\n"
        "print(json.dumps({'type': 'step_finish', 'sessionID': 'ses_f', 'part': {'reason': 'stop',"
        " 'tokens': {'input': 5, 'output': 2, 'cache': {'read': 1, 'write': 0}}, 'cost': 0.5}}))\n"
    )
    cli = fake_cli(body, "opencode")
    base = {"OPENCODE_CONFIG_CONTENT": json.dumps({"theme": "x", "permission": {"bash": "ask"}})}
    client = start_plugin(make_env(OPENCODE_BIN=str(cli), **base))
    servers = {
        "docs": {"command": "docs-mcp", "args": ["--stdio"], "env": {"T": "1"}},
        "web": {"url": "http://127.0.0.1:9/mcp", "headers": {"A": "b"}},
    }
    reply = client.call(
        "agent/run",
        run_params(
            work,
            None,
            prompt="-dash first",
            permission_mode="acceptEdits",
            mcp_servers=servers,
            reasoning_effort="high",
            env={"OPENAI_API_KEY": "k", "NOT_ALLOWED": "x"},
        ),
    )
    assert "result" in reply, reply
    seen = json.loads(reply["result"]["output"])
    assert seen["argv"] == [
        "run",
        "--title",
        "-dash first",
        "-m",
        MODEL,
        "--variant",
        "high",
        "--thinking",
        "--format",
        "json",
        "--",
        "-dash first",
    ]
    config = seen["config"]
    assert config["theme"] == "x"  # the operator's config is kept
    assert config["permission"] == {"bash": "ask", "edit": "allow"}
    assert config["mcp"] == {
        "docs": {
            "type": "local",
            "command": ["docs-mcp", "--stdio"],
            "environment": {"T": "1"},
            "enabled": True,
        },
        "web": {
            "type": "remote",
            "url": "http://127.0.0.1:9/mcp",
            "headers": {"A": "b"},
            "enabled": True,
        },
    }
    result = reply["result"]
    assert result["session_id"] == "ses_f"
    assert result["tokens_used"] == {"input": 5, "output": 2, "cached": 1}
    usage = [m for m in result["metadata"] if m.get("type") == "opencode_usage"]
    assert usage[0]["cost_usd"] == 0.5
    assert any("NOT_ALLOWED" in e["message"] for e in client.notes_of("agent/error"))


def test_nonzero_exit_names_the_code_and_stderr(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    body = (
        "import sys\n"
        'print(\'{"type":"step_start","sessionID":"ses_9","part":{}}\', flush=True)\n'
        "print('Error: Unexpected config key', file=sys.stderr)\n"
        "sys.exit(3)\n"
    )
    cli = fake_cli(body, "opencode")
    client = start_plugin(make_env(OPENCODE_BIN=str(cli)))
    reply = client.call("agent/run", run_params(work, None))
    error = reply["error"]
    assert error["data"]["category"] == "run_failed"
    assert error["data"]["exit_code"] == 3
    assert error["data"]["session_id"] == "ses_9"
    assert "exited with code 3" in error["message"]
    assert "Unexpected config key" in error["message"]


def test_garbage_and_10mb_lines_are_recoverable(
    fake_cli: Any, start_plugin: Any, make_env: Any, work: Path
) -> None:
    body = (
        "import sys, json\n"
        'print(\'{"type":"te\', flush=True)\n'
        "sys.stdout.write('{\"x\":\"' + 'x' * (10 * 1024 * 1024) + '\"}\\n')\n"
        "print(json.dumps({'type': 'text', 'sessionID': 'ses_1', 'part': {'text': 'fine'}}))\n"
        "print(json.dumps({'type': 'step_finish', 'sessionID': 'ses_1',"
        " 'part': {'reason': 'stop', 'tokens': {'input': 3, 'output': 1}}}))\n"
    )
    cli = fake_cli(body, "opencode")
    client = start_plugin(make_env(OPENCODE_BIN=str(cli)))
    reply = client.call("agent/run", run_params(work, None))
    assert "result" in reply, reply
    assert reply["result"]["session_id"] == "ses_1"
    assert reply["result"]["output"] == "fine"
    assert reply["result"]["tokens_used"]["input"] == 3
    errors = client.notes_of("agent/error")
    assert all(e["recoverable"] for e in errors)
    messages = " ".join(e["message"] for e in errors)
    assert "truncated or malformed JSON" in messages
    assert "exceeds" in messages
