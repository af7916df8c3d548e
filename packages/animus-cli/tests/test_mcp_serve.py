"""``animus mcp serve`` as a command: the spec agents receive, lazy SDK import, bad flags,
and the streamable HTTP transport with the SDK's client."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from animus_cli.mcp import ANIMUS_SERVER_NAME, animus_mcp_server_spec

pytestmark = pytest.mark.timeout(120)


def test_the_spec_starts_this_interpreter_scoped_to_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANIMUS_HOME", str(tmp_path / "home"))
    spec = animus_mcp_server_spec(tmp_path, workflow_id="WF-1", agent_id="builder")
    assert ANIMUS_SERVER_NAME == "animus"
    assert spec["command"] == sys.executable
    assert spec["args"] == [
        "-m", "animus_cli", "mcp", "serve", "--project-root", str(tmp_path),
        "--workflow-id", "WF-1", "--agent-id", "builder",
    ]  # fmt: skip
    assert spec["env"] == {"ANIMUS_HOME": str(tmp_path / "home")}
    bare = animus_mcp_server_spec(tmp_path)
    assert "--workflow-id" not in bare["args"]
    assert "--agent-id" not in bare["args"]


def test_the_spec_argv_is_a_working_server(tmp_path: Path) -> None:
    """The exact command in the spec answers initialize (no `animus` on PATH needed)."""
    spec = animus_mcp_server_spec(tmp_path, workflow_id="WF-1", agent_id="a")
    env = {"PATH": "/usr/bin:/bin", "ANIMUS_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"},
        },
    }
    proc = subprocess.run(
        [str(spec["command"]), *spec["args"]],  # type: ignore[misc]
        input=json.dumps(init) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[0])["result"]["serverInfo"]["name"] == "animus"


def test_the_cli_imports_the_sdk_only_when_serving() -> None:
    code = (
        "import sys\n"
        "from animus_cli.app import run\n"
        "import animus_cli.commands.mcp, animus_cli.mcp\n"
        "run(['mcp', 'serve', '--help'])\n"
        "assert 'mcp' not in sys.modules, 'mcp imported'\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "--workflow-id" in proc.stdout


def _animus(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANIMUS_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [sys.executable, "-m", "animus_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_bad_flags_fail_before_serving(tmp_path: Path) -> None:
    missing = _animus(tmp_path, "--json", "--project-root", str(tmp_path / "nope"), "mcp", "serve")
    assert missing.returncode == 2
    assert json.loads(missing.stderr)["error"]["code"] == "invalid_input"
    transport = _animus(tmp_path, "mcp", "serve", "--transport", "carrier-pigeon")
    assert transport.returncode == 2
    assert "carrier-pigeon" in transport.stderr
    port = _animus(tmp_path, "mcp", "serve", "--transport", "http", "--port", "0")
    assert port.returncode == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_streamable_http_transport_serves_the_same_tools(tmp_path: Path) -> None:
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    project = tmp_path / "p"
    project.mkdir()
    port = _free_port()
    env = {**os.environ, "ANIMUS_HOME": str(tmp_path / "home")}
    argv = [sys.executable, "-m", "animus_cli", "--project-root", str(project), "mcp", "serve"]
    server = subprocess.Popen(
        [*argv, "--transport", "http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(200):  # bounded wait for the port (at most ~20 s)
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            time.sleep(0.1)
        result: dict[str, Any] = {}

        async def main() -> None:
            async with (
                streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                result["tools"] = [t.name for t in (await session.list_tools()).tools]
                created = await session.call_tool("animus.subject.create", {"title": "over http"})
                result["created"] = json.loads(created.content[0].text)
                missing = await session.call_tool("animus.subject.get", {"id": "TASK-404"})
                result["missing"] = (missing.is_error, json.loads(missing.content[0].text))

        asyncio.run(asyncio.wait_for(main(), timeout=60))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "animus.queue.enqueue" in result["tools"]
    assert result["created"]["data"]["title"] == "over http"
    is_error, envelope = result["missing"]
    assert is_error is True
    assert envelope["error"]["category"] == "not_found"
