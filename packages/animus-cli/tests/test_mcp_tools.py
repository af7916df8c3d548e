"""The tools in process: same data as the CLI, typed errors, paging, scoping, unavailable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from animus_cli.mcp._context import ServeOptions, ToolContext
from animus_cli.mcp._registry import all_tools
from animus_cli.mcp._server import AnimusMcpServer

FAMILIES = {
    "subject": {"list", "get", "create", "update", "status", "next"},
    "queue": {"list", "stats", "enqueue", "hold", "release", "drop", "reorder"},
    "workflow": {
        "run", "get", "list", "pause", "resume", "cancel", "decisions", "checkpoints",
        "phase_approve", "phase_reject", "definitions", "config_validate",
    },
    "output": {"run", "tail", "phase_outputs", "artifacts"},
    "daemon": {"status", "health", "start", "stop", "pause", "resume", "events", "logs"},
    "plugin": {"list", "info", "ping", "call"},
}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


MOCK_SRC = Path(__file__).resolve().parents[3] / "plugins" / "animus-provider-mock" / "src"


def _add_mock_launcher(root: Path) -> None:
    """The mock provider as a project plugin (animus-cli does not depend on it, so the
    launcher falls back to its source tree in the isolated nox session)."""
    path = root / ".animus" / "plugins" / "animus-provider-mock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "try:\n"
        "    import animus_provider_mock\n"
        "except ImportError:\n"
        f"    sys.path.insert(0, {str(MOCK_SRC)!r})\n"
        "from animus_provider_mock import main\n"
        "main()\n",
        encoding="utf-8",
    )
    path.chmod(0o755)


def _server(tmp_path: Path, project: Path, **options: Any) -> AnimusMcpServer:
    env = {**os.environ, "ANIMUS_HOME": str(tmp_path / "home")}
    opts = ServeOptions(project_root=str(project), **options)
    return AnimusMcpServer(all_tools(), opts, ToolContext(opts, env=env))


def _ok(server: AnimusMcpServer, name: str, /, **args: Any) -> Any:
    envelope, is_error = server.call(name, args)
    assert not is_error, envelope
    assert envelope["schema"] == "animus.cli.v1"
    assert envelope["ok"] is True
    return envelope["data"]


def _err(server: AnimusMcpServer, name: str, /, **args: Any) -> dict[str, Any]:
    envelope, is_error = server.call(name, args)
    assert is_error, envelope
    assert envelope["ok"] is False
    error: dict[str, Any] = envelope["error"]
    assert error["message"]
    return error


def _cli(tmp_path: Path, project: Path, *args: str) -> Any:
    env = {**os.environ, "ANIMUS_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "animus_cli", "--json", "--project-root", str(project), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["data"]


def test_every_family_and_verb_is_served_with_a_strict_object_schema(
    tmp_path: Path, project: Path
) -> None:
    server = _server(tmp_path, project)
    names = {t.name for t in server.list_tools()}
    expected = {f"animus.{fam}.{verb}" for fam, verbs in FAMILIES.items() for verb in verbs}
    assert names == expected
    for tool in server.list_tools():
        assert tool.description
        schema = tool.input_schema
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        assert "project_root" in schema["properties"]


def test_subject_and_queue_tools_return_the_cli_json_data(tmp_path: Path, project: Path) -> None:
    server = _server(tmp_path, project)
    created = _ok(server, "animus.subject.create", title="Add a README", labels=["docs"])
    assert created["id"] == "TASK-001"
    assert created["title"] == "Add a README"
    assert _ok(server, "animus.subject.get", id="TASK-001") == _cli(
        tmp_path, project, "subject", "get", "TASK-001", "--kind", "task"
    )
    updated = _ok(server, "animus.subject.update", id="TASK-001", labels_add=["urgent"])
    assert set(updated["labels"]) == {"docs", "urgent"}
    assert _ok(server, "animus.subject.next") is None  # a new task waits in the backlog
    assert _ok(server, "animus.subject.status", id="TASK-001", status="ready")["status"] == "ready"
    assert _ok(server, "animus.subject.next")["id"] == "TASK-001"
    entry = _ok(server, "animus.queue.enqueue", task_id="TASK-001", workflow_ref="standard")
    assert entry["entry_id"] == "QE-000001"
    assert entry["subject_key"].endswith("TASK-001")
    listed = _ok(server, "animus.queue.list")
    cli_listed = _cli(tmp_path, project, "queue", "list")
    assert listed["entries"] == cli_listed["entries"]
    assert listed["total"] == 1
    assert listed["next_offset"] is None
    assert _ok(server, "animus.queue.stats") == _cli(tmp_path, project, "queue", "stats")
    held = _ok(server, "animus.queue.hold", entry_ids=["QE-000001"], reason="wait")
    assert held["changed"] == ["QE-000001"]
    assert _ok(server, "animus.queue.release", entry_ids=["QE-000001"])["changed"] == ["QE-000001"]
    assert _ok(server, "animus.queue.reorder", subject_ids=["TASK-001"])["reordered_count"] == 1
    dry = _ok(server, "animus.queue.drop", entry_ids=["QE-000001"])
    assert dry["dry_run"] is True
    assert _ok(server, "animus.queue.stats")["pending"] == 1
    assert _ok(server, "animus.queue.drop", entry_ids=["QE-000001"], yes=True)["changed"]
    refused = _err(server, "animus.subject.status", id="TASK-001", status="cancelled")
    assert refused["category"] == "conflict"
    assert "force" in refused["hint"]
    moved = _ok(server, "animus.subject.status", id="TASK-001", status="cancelled", force=True)
    assert moved["status"] == "cancelled"


def test_list_tools_page_with_limit_offset_and_next_offset(tmp_path: Path, project: Path) -> None:
    server = _server(tmp_path, project)
    for n in range(5):
        _ok(server, "animus.subject.create", title=f"task {n}")
    first = _ok(server, "animus.subject.list", limit=2)
    assert (len(first["items"]), first["total"], first["next_offset"]) == (2, 5, 2)
    last = _ok(server, "animus.subject.list", limit=2, offset=4)
    assert (len(last["items"]), last["next_offset"]) == (1, None)
    default = _ok(server, "animus.subject.list")
    assert default["limit"] == 25
    too_big = _err(server, "animus.subject.list", limit=201)
    assert too_big["category"] == "invalid_input"
    assert "limit" in too_big["message"]
    assert _err(server, "animus.queue.list", offset=-1)["category"] == "invalid_input"
    definitions = _ok(server, "animus.workflow.definitions", limit=1)
    assert len(definitions["workflows"]) == 1
    assert definitions["total"] >= 1


def test_schema_errors_name_the_field_and_never_reach_the_service(
    tmp_path: Path, project: Path
) -> None:
    server = _server(tmp_path, project)
    missing = _err(server, "animus.subject.create")
    assert missing["category"] == "invalid_input"
    assert missing["details"]["stage"] == "schema"
    assert missing["details"]["errors"][0]["field"] == "title"
    assert missing["hint"]
    wrong_type = _err(server, "animus.subject.create", title=["not", "a", "string"])
    assert "title" in wrong_type["message"]
    unknown = _err(server, "animus.queue.stats", bogus=1)
    assert unknown["details"]["errors"][0]["field"] == "bogus"
    assert _ok(server, "animus.subject.list")["total"] == 0
    neither = _err(server, "animus.queue.enqueue")
    assert neither["category"] == "invalid_input"
    assert "exactly one" in neither["message"]
    bad_subject = _err(server, "animus.queue.enqueue", subject="no-colon")
    assert bad_subject["category"] == "invalid_input"
    nothing = _err(server, "animus.subject.update", id="TASK-001")
    assert nothing["message"] == "nothing to update"


def test_unknown_ids_are_not_found_tool_errors(tmp_path: Path, project: Path) -> None:
    server = _server(tmp_path, project)
    for name, args in [
        ("animus.subject.get", {"id": "TASK-404"}),
        ("animus.subject.status", {"id": "TASK-404", "status": "done"}),
        ("animus.queue.enqueue", {"task_id": "TASK-404"}),
        ("animus.workflow.get", {"workflow_id": "WF-404"}),
        ("animus.workflow.decisions", {"workflow_id": "WF-404"}),
        ("animus.workflow.definitions", {"workflow_ref": "nope"}),
        ("animus.plugin.info", {"name": "animus-nope"}),
    ]:
        error = _err(server, name, **args)
        assert error["category"] == "not_found", (name, error)
    unknown_tool = _err(server, "animus.nope.nothing")
    assert (unknown_tool["category"], unknown_tool["code"]) == ("not_found", "unknown_tool")


def test_conflicts_and_bad_project_roots_are_typed(tmp_path: Path, project: Path) -> None:
    server = _server(tmp_path, project)
    _ok(server, "animus.queue.enqueue", subject="custom:x", workflow_ref="standard")
    again = _err(server, "animus.queue.enqueue", subject="custom:x", workflow_ref="standard")
    assert again["category"] == "conflict"
    assert again["exit_code"] == 4
    elsewhere = _err(server, "animus.subject.list", project_root=str(tmp_path / "missing"))
    assert elsewhere["category"] == "invalid_input"


def test_config_validate_reports_file_line_diagnostics(tmp_path: Path, project: Path) -> None:
    server = _server(tmp_path, project)
    assert _ok(server, "animus.workflow.config_validate")["valid"] is True
    bad = project / ".animus" / "workflows" / "bad.yaml"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("workflows:\n  - id: broken\n    phases: [nope]\n")
    error = _err(server, "animus.workflow.config_validate")
    assert error["category"] == "invalid_input"
    assert error["details"]["diagnostics"][0]["file"].endswith("bad.yaml")
    assert error["details"]["diagnostics"][0]["line"] >= 1


def test_daemon_tools_without_a_daemon_answer_from_files_or_unavailable(
    tmp_path: Path, project: Path
) -> None:
    server = _server(tmp_path, project)
    assert _ok(server, "animus.daemon.status") == {"running": False, "status": "stopped"}
    assert _ok(server, "animus.daemon.health")["status"] == "down"
    for name in ("animus.daemon.pause", "animus.daemon.resume"):
        error = _err(server, name)
        assert error["category"] == "unavailable", (name, error)
        assert error["exit_code"] == 5
        assert "animus daemon start" in error["hint"]
    assert _ok(server, "animus.daemon.stop") == {"stopped": False, "running": False}
    events = _ok(server, "animus.daemon.events")
    assert (events["events"], events["next_offset"]) == ([], None)
    assert _ok(server, "animus.daemon.logs")["lines"] == []


def test_run_and_output_tools_check_their_inputs(tmp_path: Path, project: Path) -> None:
    server = _server(tmp_path, project)
    both = _err(server, "animus.workflow.run", workflow_ref="standard")
    assert both["category"] == "invalid_input"
    assert "exactly one" in both["message"]
    missing_task = _err(server, "animus.workflow.run", workflow_ref="standard", task_id="TASK-9")
    assert missing_task["category"] == "not_found"
    for name in (
        "animus.output.run",
        "animus.output.tail",
        "animus.output.phase_outputs",
        "animus.output.artifacts",
        "animus.workflow.pause",
        "animus.workflow.cancel",
        "animus.workflow.resume",
        "animus.workflow.phase_approve",
    ):
        error = _err(server, name, workflow_id="WF-404")
        assert error["category"] == "not_found", (name, error)


def test_scoped_server_defaults_run_ids_and_hides_management_tools(
    tmp_path: Path, project: Path
) -> None:
    agent = _server(tmp_path, project, workflow_id="WF-scoped", agent_id="implementer")
    names = {t.name for t in agent.list_tools()}
    assert "animus.daemon.stop" not in names
    assert "animus.daemon.status" in names
    error = _err(agent, "animus.workflow.get")
    assert error["category"] == "not_found"
    assert "WF-scoped" in error["message"]
    assert _err(agent, "animus.daemon.stop")["code"] == "unknown_tool"
    managed = _server(tmp_path, project, agent_id="implementer", management=True)
    assert "animus.daemon.stop" in {t.name for t in managed.list_tools()}
    unscoped = _server(tmp_path, project)
    assert "workflow_id is required" in _err(unscoped, "animus.workflow.get")["message"]


def test_plugin_tools_list_and_call_a_real_plugin(tmp_path: Path, project: Path) -> None:
    _add_mock_launcher(project)
    server = _server(tmp_path, project)
    listed = _ok(server, "animus.plugin.list")
    mock = {p["name"]: p for p in listed["plugins"]}["animus-provider-mock"]
    assert mock["source"] == "project_dir"
    assert listed["next_offset"] is None
    info = _ok(server, "animus.plugin.info", name="animus-provider-mock")
    assert info["manifest"]["name"] == "animus-provider-mock"
    assert _ok(server, "animus.plugin.ping", name="animus-provider-mock")["ok"] is True
    missing = _err(server, "animus.plugin.call", name="animus-provider-mock", method="no/such")
    assert missing["category"] == "not_found"


ECHO = """\
#!{python}
from animus_plugin_protocol import RpcError
from animus_plugin_protocol.runtime import Plugin

plugin = Plugin(
    "animus-echo", "1.0.0", "custom", "echo for MCP tests",
    env_required=[{{"name": "MCP_ECHO_TOKEN", "required": True}}],
)


@plugin.method("echo/say")
async def say(params, ctx):
    return {{"echo": params}}


@plugin.method("echo/strict")
async def strict(params, ctx):
    raise RpcError.invalid_params("echo/strict needs 'n'")


plugin.main()
"""


def test_plugin_call_results_and_plugin_errors_keep_their_category(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = project / ".animus" / "plugins"
    plugins.mkdir(parents=True)
    echo = plugins / "animus-echo"
    echo.write_text(ECHO.format(python=sys.executable))
    echo.chmod(0o755)
    # The server's own environment decides (what `animus mcp serve` was started with).
    monkeypatch.delenv("MCP_ECHO_TOKEN", raising=False)
    server = _server(tmp_path, project)
    unset = _err(server, "animus.plugin.call", name="animus-echo", method="echo/say")
    assert unset["category"] == "invalid_input"
    assert unset["details"]["missing_env"] == ["MCP_ECHO_TOKEN"]
    monkeypatch.setenv("MCP_ECHO_TOKEN", "t")
    server = _server(tmp_path, project)
    said = _ok(server, "animus.plugin.call", name="animus-echo", method="echo/say", params={"a": 1})
    assert said == {"plugin": "animus-echo", "method": "echo/say", "result": {"echo": {"a": 1}}}
    strict = _err(server, "animus.plugin.call", name="animus-echo", method="echo/strict")
    assert strict["category"] == "invalid_input"
    assert strict["details"]["rpc_code"] == -32602
