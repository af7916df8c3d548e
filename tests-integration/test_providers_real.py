"""The session host drives the real claude and codex CLIs through their provider plugins.

`SessionHost` resolves the tool names `claude` / `codex` to the installed
`animus-provider-claude` / `animus-provider-codex` distributions (entry points), spawns them
with a cleared environment (allowlist + the manifests' declared variables), and runs turns
against a ScriptedModelServer: a tool loop that changes files, a resume of the CLI's own
session, and a cancel that reaches the live CLI.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from animus_session_host import SessionEvent, SessionHost
from animus_testsupport import ScriptedModelServer
from animus_testsupport.clis import require_cli

pytestmark = pytest.mark.realcli

KEY_VAR = "SCRIPTED_MODEL_API_KEY"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def host_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANIMUS_HOME": str(tmp_path / "animus-home"),
        "LANG": "C.UTF-8",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "ANIMUS_CODEX_HOMES": str(tmp_path / "codex-homes"),
        **extra,
    }


def test_claude_turn_tool_loop_resume_and_cancel(tmp_path: Path, project: Path) -> None:
    claude = require_cli("claude")
    target = project / "hello.txt"
    script = [
        {"tool_calls": [{"name": "Write", "input": {"file_path": str(target), "content": "hi\n"}}]},
        {"match": {"contains": "File created successfully"}, "text": "Wrote hello.txt."},
        {"match": {"contains": "which file"}, "text": "hello.txt"},
        {"match": {"contains": "stream slowly"}, "text": "z" * 400, "chunk_size": 1,
         "chunk_delay": 0.25},
    ]  # fmt: skip
    env = host_env(tmp_path, CLAUDE_BIN=str(claude), ANIMUS_CLAUDE_SANDBOXED="1")

    async def scenario(server: ScriptedModelServer) -> None:
        sessions = SessionHost(project_root=project, env=env)
        try:
            assert sessions.resolve("claude").name == "animus-provider-claude"
            events: list[SessionEvent] = []
            request: dict[str, Any] = {
                "prompt": "write hello.txt",
                "cwd": str(project),
                "env": {"ANTHROPIC_BASE_URL": server.base_url, "ANTHROPIC_API_KEY": "dummy"},
            }
            first = await sessions.run("claude", request, events.append, timeout=120)
            assert target.read_text() == "hi\n"
            assert first.output == "Wrote hello.txt."
            assert first.backend == "claude:claude-native"
            uuid.UUID(first.session_id)
            assert first.tokens_used is not None
            assert [e.params["name"] for e in events if e.kind == "toolCall"] == ["Write"]
            assert any(e.kind == "toolResult" and e.params["success"] for e in events)

            again = await sessions.resume(
                "claude", first.session_id, {**request, "prompt": "which file"}, timeout=120
            )
            assert again.session_id == first.session_id
            assert again.output == "hello.txt"
            assert "write hello.txt" in server.model_requests[-1].body_text()

            # The caller names the run (a UUID claude adopts as its own session id), so the
            # session is cancellable before the CLI has printed anything.
            sid = str(uuid.uuid4())
            slow_request = {**request, "prompt": "stream slowly", "session_id": sid}
            slow = asyncio.create_task(sessions.run("claude", slow_request, timeout=120))
            for _ in range(600):  # bounded: until the model stream has started
                if len(server.model_requests) >= 4:
                    break
                await asyncio.sleep(0.05)
            assert sessions.active_sessions() == [sid]
            assert await sessions.cancel(sid)
            with pytest.raises(Exception, match="cancel"):
                await slow
        finally:
            await sessions.aclose()

    with ScriptedModelServer(script) as server:
        asyncio.run(scenario(server))


def test_codex_turn_tool_loop_and_resume(tmp_path: Path, project: Path) -> None:
    codex = require_cli("codex")
    script = [
        {"tool_calls": [{"name": "exec_command", "input": {"cmd": "echo made > out.txt"}}]},
        {"match": {"body_contains": "function_call_output"}, "text": "Made out.txt."},
        {"match": {"contains": "what did you make"}, "text": "out.txt"},
    ]
    env = host_env(tmp_path, CODEX_BIN=str(codex))

    async def scenario(server: ScriptedModelServer) -> None:
        sessions = SessionHost(project_root=project, env=env)
        config = {
            "model": "gpt-5.5",
            "model_provider": "scripted",
            "check_for_update_on_startup": False,
            "model_providers": {
                "scripted": {
                    "name": "Scripted",
                    "base_url": server.openai_base_url,
                    "wire_api": "responses",
                    "env_key": KEY_VAR,
                    "supports_websockets": False,
                    "request_max_retries": 0,
                    "stream_max_retries": 0,
                }
            },
        }
        try:
            assert sessions.resolve("codex").name == "animus-provider-codex"
            request: dict[str, Any] = {
                "prompt": "make out.txt",
                "cwd": str(project),
                "model": "gpt-5.5",
                "env": {KEY_VAR: "dummy"},
                "codex_config": config,
            }
            events: list[SessionEvent] = []
            first = await sessions.run("codex", request, events.append, timeout=120)
            assert (project / "out.txt").read_text() == "made\n"
            assert first.output == "Made out.txt."
            assert first.backend == "codex:codex-exec"
            assert first.tokens_used is not None
            assert any(e.kind == "toolCall" and e.params["name"] == "shell" for e in events)
            again = await sessions.resume(
                "codex", first.session_id, {**request, "prompt": "what did you make"}, timeout=120
            )
            assert again.session_id == first.session_id
            assert again.output == "out.txt"
            assert "make out.txt" in server.model_requests[-1].body_text()
        finally:
            await sessions.aclose()

    with ScriptedModelServer(script) as server:
        asyncio.run(scenario(server))
