"""The author runtime, exercised by launching a real plugin script and speaking frames to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol import PluginManifest
from animus_plugin_protocol.runtime import Plugin, RequestContext

SAMPLE = Path(__file__).parent / "scripts" / "sample_plugin.py"


def run_flag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SAMPLE), *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_manifest_flag_prints_one_json_line() -> None:
    for flag in ("--manifest", "-m"):
        done = run_flag(flag)
        assert done.returncode == 0
        lines = done.stdout.splitlines()
        assert len(lines) == 1
        manifest = PluginManifest.model_validate_json(lines[0])
        assert manifest.name == "animus-sample"
        assert manifest.plugin_kind == "custom"
        assert manifest.description
        assert manifest.protocol_version == "1.1.0"
        assert manifest.env_required[0].name == "SAMPLE_TOKEN"
        assert manifest.notification_buffer_size == 64
        assert "sample/echo" in manifest.capabilities
        assert "health/check" in manifest.capabilities
        assert "$harness/oai-style" in manifest.capabilities


def test_help_goes_to_stderr_and_unknown_flags_fail() -> None:
    done = run_flag("--help")
    assert done.returncode == 0
    assert done.stdout == ""
    assert "--manifest" in done.stderr
    bad = run_flag("--bogus")
    assert bad.returncode == 2
    assert "--bogus" in bad.stderr
    assert bad.stdout == ""


def test_tty_stdin_without_flags_prints_a_hint_and_exits_2() -> None:
    primary, secondary = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, str(SAMPLE)],
            stdin=secondary,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        os.close(primary)
        os.close(secondary)
    assert done.returncode == 2
    assert "Animus plugin" in done.stderr
    assert done.stdout == ""


def test_initialize_then_domain_call(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    early = plugin.request(5, "sample/echo", {"x": 1})
    assert early["error"]["code"] == -32000
    assert early["error"]["data"]["category"] == "plugin_not_initialized"
    init = plugin.request(
        1,
        "initialize",
        {
            "protocol_version": "1.0.0",
            "host_info": {"name": "animus", "version": "0.1.0"},
            "capabilities": {},
            "init_extensions": {"project_binding": {"project_root": "/repo"}},
        },
    )
    result = init["result"]
    assert result["protocol_version"] == "1.1.0"
    assert result["plugin_info"]["name"] == "animus-sample"
    assert result["capabilities"]["cancellation"] is True
    assert "sample/sleep" in result["capabilities"]["methods"]
    plugin.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    echoed = plugin.request(2, "sample/echo", {"x": 1})
    assert echoed["result"] == {"params": {"x": 1}, "project_root": "/repo"}


def test_version_mismatch_and_bad_initialize(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    mismatch = plugin.initialize(version="2.0.0")
    assert mismatch["error"]["code"] == -32602
    assert "incompatible protocol major" in mismatch["error"]["message"]
    still_gated = plugin.request(2, "sample/echo", {})
    assert still_gated["error"]["code"] == -32000
    bad = plugin.request(3, "initialize", {"protocol_version": "1.0.0"})
    assert bad["error"]["code"] == -32602
    assert "host_info" in bad["error"]["message"]
    assert "result" in plugin.initialize()


def test_ping_health_unknown_methods_and_notifications(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    assert plugin.request(9, "$/ping")["result"] == {}  # answered even before initialize
    plugin.initialize()
    health = plugin.request(2, "health/check")["result"]
    assert health["status"] == "healthy"
    assert health["uptime_ms"] >= 0
    unknown = plugin.request(3, "nope/verb", {})
    assert unknown["error"]["code"] == -32601
    assert unknown["error"]["message"] == "method 'nope/verb' not implemented by animus-sample"
    dollar = plugin.request(4, "$/whatever", {})
    assert dollar["error"]["code"] == -32601
    plugin.send({"jsonrpc": "2.0", "method": "$/somethingNew", "params": {}})  # dropped
    plugin.send({"jsonrpc": "2.0", "method": "custom/event", "params": {}})  # logged, dropped
    assert plugin.request(5, "$/ping")["result"] == {}
    bad_params = plugin.request(6, "sample/echo", [1, 2])
    assert bad_params["error"]["code"] == -32602


def test_handler_errors_map_to_json_rpc_errors(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    plugin.initialize()
    crash = plugin.request(2, "sample/fail", {})["error"]
    assert crash["code"] == -32603
    assert "boom" in crash["message"]
    assert crash["data"]["category"] == "other"
    rpc = plugin.request(3, "sample/rpc_error", {})["error"]
    assert rpc == {
        "code": -32001,
        "message": "subject/delete is not supported here",
        "data": {"category": "unsupported"},
    }
    invalid = plugin.request(4, "sample/validate", {"cwd": "/"})["error"]
    assert invalid["code"] == -32602
    assert "prompt" in invalid["message"]
    health = plugin.request(5, "health/check")["result"]
    assert health["status"] == "degraded"
    assert "boom" in health["last_error"]


def test_concurrent_requests_answer_out_of_order(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    plugin.initialize()
    plugin.send({"jsonrpc": "2.0", "id": 10, "method": "sample/sleep", "params": {"secs": 1.5}})
    plugin.send({"jsonrpc": "2.0", "id": 11, "method": "sample/echo", "params": {"n": 11}})
    first = plugin.next_frame()
    second = plugin.next_frame()
    assert first["id"] == 11
    assert second["id"] == 10
    assert second["result"] == {"slept": 1.5}


def test_notifications_precede_the_response(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    plugin.initialize()
    plugin.send({"jsonrpc": "2.0", "id": 2, "method": "sample/notify", "params": {"count": 3}})
    frames = [plugin.next_frame() for _ in range(4)]
    assert [f.get("method") for f in frames[:3]] == ["sample/progress"] * 3
    assert [f["params"]["n"] for f in frames[:3]] == [0, 1, 2]
    assert frames[3]["result"] == {"sent": 3}


def test_cancel_request_cancels_the_handler(spawn_plugin: Any, tmp_path: Path) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    plugin.initialize()
    marker = tmp_path / "marker"
    plugin.send(
        {
            "jsonrpc": "2.0",
            "id": 20,
            "method": "sample/wait_for_cancel",
            "params": {"marker": str(marker)},
        }
    )
    assert plugin.request(21, "$/ping")["result"] == {}  # the handler is running by now
    plugin.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 20}})
    answer = plugin.wait_response(20)
    assert answer["error"]["code"] == -32002
    assert answer["error"]["data"]["category"] == "cancelled"
    assert marker.read_text() == "cancelled"
    plugin.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 999}})
    assert plugin.request(22, "$/ping")["result"] == {}


def test_shutdown_then_exit(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    plugin.initialize()
    plugin.send({"jsonrpc": "2.0", "id": 2, "method": "sample/sleep", "params": {"secs": 0.5}})
    plugin.send({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
    # shutdown drains: the in-flight request answers first
    assert plugin.next_frame()["id"] == 2
    assert plugin.next_frame() == {"jsonrpc": "2.0", "id": 3, "result": {}}
    late = plugin.request(4, "sample/echo", {})
    assert late["error"]["code"] == -32600
    plugin.send({"jsonrpc": "2.0", "method": "exit"})
    assert plugin.wait_exit() == 0


def test_exit_sent_with_an_id(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    plugin.initialize()
    assert plugin.request(2, "exit")["result"] == {}
    assert plugin.wait_exit() == 0


def test_eof_ends_the_process_even_with_work_in_flight(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    plugin.initialize()
    plugin.send({"jsonrpc": "2.0", "id": 2, "method": "sample/sleep", "params": {"secs": 60}})
    plugin.close_stdin()
    assert plugin.wait_exit() == 0


def test_garbage_and_pretty_frames_on_stdin(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    plugin.send_raw(b"this is not json\n[1,2\n\n")
    plugin.send_raw(
        b'{\n  "jsonrpc": "2.0",\n  "id": 1,\n  "method": "initialize",\n  "params": {\n'
        b'    "protocol_version": "1.1.0",\n'
        b'    "host_info": {"name": "t", "version": "1"}\n  }\n}\n'
    )
    assert plugin.wait_response(1)["result"]["protocol_version"] == "1.1.0"
    plugin.send_raw(b'{"jsonrpc":"2.0","id":"x","method":7}\n')  # not a request: -32600
    invalid = plugin.wait_response("x")
    assert invalid["error"]["code"] == -32600
    assert "'method' must be a string" in invalid["error"]["message"]
    assert plugin.request(2, "$/ping")["result"] == {}
    plugin.close_stdin()
    assert plugin.wait_exit() == 0
    assert any("skipped a bad frame" in line for line in plugin.stderr_lines)


def test_stray_prints_never_reach_stdout(spawn_plugin: Any) -> None:
    plugin = spawn_plugin("sample_plugin.py")
    plugin.initialize()
    assert plugin.request(2, "sample/print", {})["result"] == {"ok": True}
    plugin.close_stdin()
    plugin.wait_exit()
    plugin.assert_stdout_only_frames()
    stray = "".join(plugin.stderr_lines)
    for text in ("stray print", "stray sys.stdout", "stray fd 1", "stray child output"):
        assert text in stray


def test_plugin_declaration_rejects_bad_handlers() -> None:
    plugin = Plugin("p", "1", "custom", "d")
    with pytest.raises(ValueError, match="initialize"):
        plugin.method("initialize")

    def sync_handler(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {}

    with pytest.raises(TypeError, match="async def"):
        plugin.method("x/y")(sync_handler)  # type: ignore[type-var]
    with pytest.raises(ValueError, match="non-empty"):
        Plugin("", "1", "custom", "d")


def test_manifest_lists_methods_then_health_then_tokens() -> None:
    plugin = Plugin("p", "1", "queue", "d", kinds=["queue", "durable_store"], capabilities=["t"])

    @plugin.method("queue/stats")
    async def stats(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {}

    manifest = json.loads(plugin.manifest().to_json())
    assert manifest["capabilities"] == ["queue/stats", "health/check", "t"]
    assert manifest["plugin_kinds"] == ["durable_store"]
    assert "env_required" not in manifest
