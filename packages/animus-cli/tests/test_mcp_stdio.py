"""A real MCP session: the SDK's client over stdio against ``python -m animus_cli mcp serve``.

Drives a task from creation through the queue to a finished workflow run (mock provider),
checks schema and not-found tool errors on the wire, and feeds the raw stdio stream
malformed JSON-RPC to show the server answers and carries on.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from animus_workflow_runner.testing import WorkflowProject, make_workflow_project

pytestmark = pytest.mark.timeout(180)

WORKFLOWS = """
agents:
  builder: { tool: mock }
phases:
  implement: { mode: agent, agent: builder, directive: "Implement.", idempotency: sideeffecting,
               commit_message: "implement greeting" }
workflows:
  - id: build
    phases: [implement]
    post_success: { merge: { strategy: merge, target_branch: main } }
default_workflow_ref: build
"""


@pytest.fixture
def project(tmp_path: Path) -> WorkflowProject:
    p = make_workflow_project(tmp_path, WORKFLOWS)
    p.script(
        "10-implement",
        {
            "match": {"phase": "implement"},
            "steps": [
                {"write_file": {"path": "greeting.txt", "content": "hello\n"}},
                {"text": "wrote greeting.txt"},
                {"decision": {"verdict": "advance", "reason": "done", "confidence": 0.9}},
            ],
        },
    )
    return p


def _session(
    p: WorkflowProject,
    body: Callable[[Any], Awaitable[None]],
    *extra: str,
    env: dict[str, str] | None = None,
) -> None:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "animus_cli", "--project-root", str(p.root), "mcp", "serve", *extra],
        env=env or p.env,
        cwd=str(p.root),
    )

    async def main() -> None:
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            await body(session)

    asyncio.run(asyncio.wait_for(main(), timeout=150))


async def _call(session: Any, name: str, **args: Any) -> tuple[dict[str, Any], bool]:
    result = await session.call_tool(name, args)
    envelope = json.loads(result.content[0].text)
    assert result.structured_content == envelope
    return envelope, bool(result.is_error)


async def _ok(session: Any, name: str, **args: Any) -> Any:
    envelope, is_error = await _call(session, name, **args)
    assert not is_error, envelope
    return envelope["data"]


async def _err(session: Any, name: str, **args: Any) -> dict[str, Any]:
    envelope, is_error = await _call(session, name, **args)
    assert is_error, envelope
    error: dict[str, Any] = envelope["error"]
    return error


def test_a_session_drives_a_task_from_creation_to_a_finished_run(project: WorkflowProject) -> None:
    seen: dict[str, Any] = {}

    async def body(session: Any) -> None:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert len(tools) == 41
        assert tools["animus.subject.create"].input_schema["required"] == ["title"]
        task = await _ok(session, "animus.subject.create", title="Add a greeting", status="ready")
        entry = await _ok(session, "animus.queue.enqueue", task_id=task["id"], workflow_ref="build")
        queued = await _ok(session, "animus.queue.list")
        assert [e["entry_id"] for e in queued["entries"]] == [entry["entry_id"]]
        outcome = await _ok(
            session, "animus.workflow.run", workflow_ref="build", task_id=task["id"], sync=True
        )
        assert (outcome["status"], outcome["exit_code"]) == ("completed", 0), outcome
        run = await _ok(session, "animus.workflow.get", workflow_id=outcome["workflow_id"])
        assert run["status"] == "completed"
        decisions = await _ok(
            session, "animus.workflow.decisions", workflow_id=outcome["workflow_id"]
        )
        assert [d["decision"] for d in decisions] == ["advance"]
        output = await _ok(session, "animus.output.run", workflow_id=outcome["workflow_id"])
        assert "wrote greeting.txt" in output["implement"]["output"]
        tail = await _ok(session, "animus.output.tail", workflow_id=outcome["workflow_id"])
        assert tail["events"][-1]["kind"] == "workflow_completed"
        seen["task"] = await _ok(session, "animus.subject.get", id=task["id"])
        runs = await _ok(session, "animus.workflow.list", task_id=task["id"])
        seen["runs"] = runs

    _session(project, body)
    assert seen["task"]["status"] == "done"
    assert seen["runs"]["total"] == 1
    main = subprocess.run(
        ["git", "show", "main:greeting.txt"],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=True,
        env=project.env,
    )
    assert main.stdout == "hello\n"


def test_schema_and_not_found_errors_travel_as_tool_errors(project: WorkflowProject) -> None:
    async def body(session: Any) -> None:
        bad = await _err(session, "animus.subject.create", title=42)
        assert bad["category"] == "invalid_input"
        assert bad["details"]["errors"][0]["field"] == "title"
        extra = await _err(session, "animus.queue.enqueue", task_id="TASK-1", colour="red")
        assert extra["details"]["errors"][0]["field"] == "colour"
        missing = await _err(session, "animus.subject.get", id="TASK-999")
        assert missing["category"] == "not_found"
        assert missing["hint"] is None or isinstance(missing["hint"], str)
        run = await _err(session, "animus.workflow.get", workflow_id="WF-nope")
        assert run["category"] == "not_found"
        unknown = await _err(session, "animus.no.such_tool")
        assert unknown["code"] == "unknown_tool"
        needs_daemon = await _err(session, "animus.daemon.pause")
        assert needs_daemon["category"] == "unavailable"
        assert "daemon start" in needs_daemon["hint"]
        status = await _ok(session, "animus.daemon.status")
        assert status["running"] is False
        # The session is intact after every error.
        assert (await _ok(session, "animus.subject.list"))["total"] == 0

    _session(project, body)


def test_resources_list_and_read_the_project(project: WorkflowProject) -> None:
    from mcp.shared.exceptions import MCPError

    async def body(session: Any) -> None:
        uris = {str(r.uri) for r in (await session.list_resources()).resources}
        assert uris == {
            "animus://project/tasks",
            "animus://project/requirements",
            "animus://project/daemon-events",
        }
        templates = (await session.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["animus://project/daemon-events{?limit}"]
        await _ok(session, "animus.subject.create", title="read me")
        tasks = await session.read_resource("animus://project/tasks")
        data = json.loads(tasks.contents[0].text)["data"]
        assert [t["title"] for t in data["items"]] == ["read me"]
        events = await session.read_resource("animus://project/daemon-events?limit=5")
        assert json.loads(events.contents[0].text)["data"]["limit"] == 5
        with pytest.raises(MCPError) as unknown:
            await session.read_resource("animus://project/nothing")
        assert unknown.value.data["error"]["category"] == "not_found"
        with pytest.raises(MCPError) as bad_limit:
            await session.read_resource("animus://project/daemon-events?limit=9999")
        assert bad_limit.value.data["error"]["category"] == "invalid_input"
        assert (await _ok(session, "animus.subject.list"))["total"] == 1

    _session(project, body)


def test_agent_scoped_server_hides_management_tools(project: WorkflowProject) -> None:
    async def body(session: Any) -> None:
        names = {t.name for t in (await session.list_tools()).tools}
        assert "animus.daemon.stop" not in names
        assert "animus.subject.create" in names
        error = await _err(session, "animus.workflow.get")
        assert "WF-7" in error["message"]

    _session(project, body, "--workflow-id", "WF-7", "--agent-id", "builder")


def _rpc(proc: subprocess.Popen[bytes], line: bytes) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line + b"\n")
    proc.stdin.flush()


def _read(proc: subprocess.Popen[bytes], want_id: int) -> dict[str, Any]:
    """Lines until the response with ``want_id`` (bounded: the server answers or exits)."""
    assert proc.stdout is not None
    for _ in range(50):
        raw = proc.stdout.readline()
        assert raw, f"the server closed stdout (exit {proc.poll()})"
        message = json.loads(raw)
        if message.get("id") == want_id:
            return dict(message)
    raise AssertionError(f"no response with id {want_id}")


def test_malformed_json_rpc_never_crashes_the_server(project: WorkflowProject) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "animus_cli", "--project-root", str(project.root), "mcp", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=project.env,
    )
    try:
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        }
        _rpc(proc, json.dumps(init).encode())
        assert _read(proc, 1)["result"]["serverInfo"]["name"] == "animus"
        _rpc(proc, b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
        for garbage in (
            b"this is not json",
            b"{",
            b"[1, 2, 3]",
            b'"a string"',
            b"\xff\xfe\x00 binary",
            b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":"not an object"}',
            b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":7}}',
            b'{"jsonrpc":"2.0","id":4,"method":"no/such/method","params":{}}',
            b'{"jsonrpc":"1.0","id":5,"method":"tools/list"}',
            b'{"jsonrpc":"2.0","id":{"nested":true},"method":"tools/list"}',
            b'{"jsonrpc":"2.0","id":6,"method":"tools/call",'
            b'"params":{"name":"animus.subject.get","arguments":[1]}}',
        ):
            _rpc(proc, garbage)
        call = {
            "jsonrpc": "2.0",
            "id": 99,
            "method": "tools/call",
            "params": {"name": "animus.subject.create", "arguments": {"title": "still here"}},
        }
        _rpc(proc, json.dumps(call).encode())
        answer = _read(proc, 99)
        envelope = json.loads(answer["result"]["content"][0]["text"])
        assert envelope["data"]["title"] == "still here"
        assert proc.poll() is None
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_the_daemon_dispatches_what_a_session_enqueued(project: WorkflowProject) -> None:
    seen: dict[str, Any] = {}
    # The control socket lives under ANIMUS_HOME; pytest's tmp paths exceed AF_UNIX's limit.
    home = Path(tempfile.mkdtemp(prefix="am-", dir="/tmp"))

    async def body(session: Any) -> None:
        task = await _ok(session, "animus.subject.create", title="Add a greeting", status="ready")
        await _ok(session, "animus.queue.enqueue", task_id=task["id"], workflow_ref="build")
        started = await _ok(session, "animus.daemon.start")
        assert started["started"] is True
        try:
            for _ in range(240):  # bounded: 240 x 0.25 s
                stats = await _ok(session, "animus.queue.stats")
                if stats["total"] == 0:  # the entry left the queue: completed or failed
                    break
                await asyncio.sleep(0.25)
            seen["stats"] = stats
            seen["runs"] = await _ok(session, "animus.workflow.list", task_id=task["id"])
            seen["status"] = await _ok(session, "animus.daemon.status")
        finally:
            seen["stopped"] = await _ok(session, "animus.daemon.stop", timeout_secs=10)

    try:
        _session(project, body, env={**project.env, "ANIMUS_HOME": str(home)})
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert seen["runs"]["runs"][0]["status"] == "completed", seen["runs"]
    assert seen["status"]["running"] is True
    assert seen["stats"]["completed"] == 1, seen
    assert seen["stopped"]["stopped"] is True
