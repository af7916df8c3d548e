"""The mock provider driven through the session host: real processes end to end."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_host import RestartPolicy
from animus_plugin_protocol.kinds.provider import AgentRunRequest
from animus_session_host import (
    ProviderNotFoundError,
    SessionCancelledError,
    SessionError,
    SessionEvent,
    SessionHost,
    SessionNotFoundError,
    classify_failure,
    default_model,
    normalize_tool,
    provider_plugin_name,
)


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie awaiting its reaper."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _host(project: Path, env: dict[str, str], **kwargs: Any) -> SessionHost:
    return SessionHost(project_root=project, env=env, **kwargs)


def test_tool_names_aliases_and_default_models() -> None:
    assert normalize_tool("oai-runner") == normalize_tool("animus-oai-runner") == "oai"
    assert provider_plugin_name("Claude") == "animus-provider-claude"
    assert provider_plugin_name("animus-provider-mock") == "animus-provider-mock"
    assert default_model("claude") == "claude-sonnet-4-6"
    assert default_model("codex") == "gpt-5.4"
    assert default_model("gemini") == "gemini-2.5-pro"
    assert default_model("opencode") == "zai-coding-plan/glm-5"
    assert default_model("oai-runner") == "openrouter/minimax/minimax-m2.7"
    assert default_model("mock") is None


def test_missing_provider_is_a_clear_error_with_an_install_hint(
    project: Path, host_env: dict[str, str]
) -> None:
    host = _host(project, host_env)
    with pytest.raises(ProviderNotFoundError) as info:
        host.resolve("claude")
    err = info.value
    assert "no provider plugin for tool 'claude'" in err.message
    assert err.hint is not None
    assert "animus plugin install animus-provider-claude" in err.hint


def test_run_streams_events_before_the_response_and_reuses_the_process(
    project: Path, host_env: dict[str, str]
) -> None:
    async def main() -> None:
        host = _host(project, host_env)
        events: list[SessionEvent] = []
        try:
            script = [
                {"thinking": "hmm"},
                {"write_file": {"path": "out.txt", "content": "x"}},
                {"text": "done"},
            ]
            response = await host.run(
                "mock",
                AgentRunRequest(prompt="go", cwd=str(project), mock_script=script),  # type: ignore[call-arg]
                events.append,
            )
            assert response.output == "done"
            assert (project / "out.txt").read_text() == "x"
            kinds = [e.kind for e in events]
            assert kinds == ["thinking", "toolCall", "toolResult", "output", "output"]
            assert {e.session_id for e in events} == {response.session_id}
            first_pid = host.pool.stats
            assert (first_pid.started, first_pid.reused) == (1, 0)
            second = await host.run("mock", {"prompt": "again", "cwd": str(project)})
            assert second.decision_verdict == "advance"
            assert (host.pool.stats.started, host.pool.stats.reused) == (1, 1)
            assert host.active_sessions() == []
        finally:
            await host.aclose()

    asyncio.run(main())


def test_cancel_ends_the_session_and_kills_its_process_group(
    project: Path, host_env: dict[str, str]
) -> None:
    async def main() -> None:
        host = _host(project, host_env)
        started = asyncio.Event()
        sids: list[str] = []

        def on_event(event: SessionEvent) -> None:
            if event.session_id:
                sids.append(event.session_id)
            started.set()

        script = [
            {"text": "working"},
            {"run": {"command": "sleep 60 & echo $! > child.pid; sleep 60"}},
        ]
        run = asyncio.create_task(
            host.run("mock", {"prompt": "p", "cwd": str(project), "mock_script": script}, on_event)
        )
        try:
            await asyncio.wait_for(started.wait(), 30)
            pid_file = project / "child.pid"
            for _ in range(1000):
                if pid_file.exists() and pid_file.read_text().strip():
                    break
                await asyncio.sleep(0.01)
            child = int(pid_file.read_text())
            assert host.active_sessions() == [sids[0]]
            assert await host.cancel(sids[0]) is True
            with pytest.raises(SessionCancelledError) as info:
                await run
            assert info.value.category == "cancelled"
            assert not info.value.retryable
            for _ in range(500):  # SIGKILL is delivered at once; reaping may lag a moment
                if not _alive(child):
                    break
                await asyncio.sleep(0.01)
            assert not _alive(child)  # no orphan: the command's process group is gone
            assert host.active_sessions() == []
            with pytest.raises(SessionNotFoundError):
                await host.cancel(sids[0])
            # The provider process survived the cancel and serves the next session.
            await host.run("mock", {"prompt": "next", "cwd": str(project)})
            assert host.pool.stats.reused == 1
        finally:
            await host.aclose()

    asyncio.run(main())


def test_resume_continues_a_cancelled_session(project: Path, host_env: dict[str, str]) -> None:
    async def main() -> None:
        host = _host(project, host_env)
        script = {"steps": [{"text": "one"}, {"sleep": 60}, {"text": "two"}]}
        started = asyncio.Event()
        run = asyncio.create_task(
            host.run(
                "mock",
                {"prompt": "p", "cwd": str(project), "session_id": "sess-1", "mock_script": script},
                lambda e: started.set(),
            )
        )
        try:
            await asyncio.wait_for(started.wait(), 30)
            await host.cancel("sess-1")
            with pytest.raises(SessionCancelledError):
                await run
            resumed = await host.resume("mock", "sess-1", {"prompt": "go on", "cwd": str(project)})
            assert resumed.output == "two"
            assert resumed.session_id == "sess-1"
        finally:
            await host.aclose()

    asyncio.run(main())


def test_death_before_any_event_is_retried_once(project: Path, host_env: dict[str, str]) -> None:
    async def main() -> None:
        host = _host(project, host_env)
        script = [{"crash": {"exit_code": 9, "once_marker": ".crashed"}}, {"text": "survived"}]
        try:
            response = await host.run(
                "mock", {"prompt": "p", "cwd": str(project), "mock_script": script}
            )
            assert response.output == "survived"
            assert (project / ".crashed").exists()
            assert host.pool.stats.started == 2
        finally:
            await host.aclose()

    asyncio.run(main())


def test_death_after_an_event_is_not_retried_and_is_retryable(
    project: Path, host_env: dict[str, str]
) -> None:
    async def main() -> None:
        host = _host(project, host_env)
        script = [{"text": "partial"}, {"crash": {"exit_code": 9}}]
        try:
            with pytest.raises(SessionError) as info:
                await host.run("mock", {"prompt": "p", "cwd": str(project), "mock_script": script})
            err = info.value
            assert err.retryable
            assert err.category == "process_exited"
            assert "exit code 9" in err.message
            assert "scripted crash" in err.message
            assert host.pool.stats.started == 1
        finally:
            await host.aclose()

    asyncio.run(main())


def test_structured_errors_are_not_retryable_and_keep_the_process(
    project: Path, host_env: dict[str, str]
) -> None:
    async def main() -> None:
        host = _host(project, host_env)
        try:
            with pytest.raises(SessionError) as info:
                await host.run(
                    "mock",
                    {
                        "prompt": "p",
                        "cwd": str(project),
                        "mock_script": [{"fail": "model_not_supported: x"}],
                    },
                )
            assert not info.value.retryable
            assert info.value.category == "run_failed"
            assert host.pool.idle_count("animus-provider-mock") == 1
        finally:
            await host.aclose()

    asyncio.run(main())


def test_provider_that_cannot_start_exhausts_the_budget(
    project: Path, host_env: dict[str, str]
) -> None:
    broken = project / ".animus" / "plugins" / "animus-provider-broken"
    broken.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = --manifest ]; then echo \'{"name":"animus-provider-broken",'
        '"version":"1","plugin_kind":"provider","description":"d",'
        '"protocol_version":"1.1.0"}\'; exit 0; fi\n'
        "echo 'broken: no credentials' >&2; exit 4\n"
    )
    broken.chmod(0o755)

    async def main() -> None:
        policy = RestartPolicy(initial_backoff=0.001, max_backoff=0.002, max_attempts=2)
        host = _host(project, host_env, restart_policy=policy)
        try:
            with pytest.raises(SessionError) as info:
                await host.run("broken", {"prompt": "p", "cwd": str(project)})
            assert "restart budget exhausted after 2 restart attempts" in info.value.message
            assert "no credentials" in info.value.message
            assert info.value.category == "session_start_failed"
        finally:
            await host.aclose()

    asyncio.run(main())


def test_plugin_environment_holds_only_the_allowlist(
    project: Path, host_env: dict[str, str]
) -> None:
    async def main() -> None:
        env = dict(host_env, ANIMUS_CANARY="must-not-leak", ANIMUS_MOCK_SCRIPT_DIR=str(project))
        host = _host(project, env)
        try:
            await host.run(
                "mock",
                {
                    "prompt": "p",
                    "cwd": str(project),
                    "mock_script": [{"run": "env > seen-env.txt"}],
                },
            )
        finally:
            await host.aclose()
        seen = (project / "seen-env.txt").read_text()
        assert "ANIMUS_CANARY" not in seen
        assert f"ANIMUS_MOCK_SCRIPT_DIR={project}" in seen  # declared in env_required

    asyncio.run(main())


def test_failure_classification() -> None:
    from animus_plugin_host import PluginCallError, PluginExitedError, PluginTimeoutError

    assert classify_failure(PluginExitedError("x", plugin="p", exit_code=1)).retryable
    assert classify_failure(
        PluginTimeoutError("t", plugin="p", method="m", rpc_code=-32003)
    ).retryable
    not_supported = PluginCallError(
        "m",
        plugin="p",
        method="agent/run",
        rpc_code=-32602,
        data={"category": "model_not_supported"},
    )
    failure = classify_failure(not_supported)
    assert not failure.retryable
    assert failure.category == "model_not_supported"
    assert classify_failure(ConnectionResetError()).retryable


STUBBORN = """
import json, signal, subprocess, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if "--manifest" in sys.argv:
    print(json.dumps({"name": "animus-provider-stubborn", "version": "1",
                      "plugin_kind": "provider", "description": "ignores cancel",
                      "protocol_version": "1.1.0"}))
    sys.exit(0)
out = sys.stdout
for raw in sys.stdin:
    msg = json.loads(raw)
    if msg.get("method") == "initialize":
        out.write(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {
            "protocol_version": "1.1.0", "plugin_info": {"name": "animus-provider-stubborn",
            "version": "1", "plugin_kind": "provider"}, "capabilities": {"methods": []}}}) + "\\n")
        out.flush()
    elif msg.get("method") == "agent/run":
        child = subprocess.Popen(["sleep", "60"])  # stays in the plugin's process group
        with open(msg["params"]["cwd"] + "/stub-child.pid", "w") as handle:
            handle.write(str(child.pid))
        out.write(json.dumps({"jsonrpc": "2.0", "method": "agent/output", "params": {
            "session_id": "stub-1", "text": "busy", "final": False}}) + "\\n")
        out.flush()
"""


def test_cancel_kills_a_provider_that_ignores_it(project: Path, host_env: dict[str, str]) -> None:
    import sys

    stub = project / ".animus" / "plugins" / "animus-provider-stubborn"
    stub.write_text(f"#!{sys.executable}\n{STUBBORN}")
    stub.chmod(0o755)

    async def main() -> None:
        host = _host(project, host_env, cancel_grace=0.3)
        started = asyncio.Event()
        run = asyncio.create_task(
            host.run("stubborn", {"prompt": "p", "cwd": str(project)}, lambda e: started.set())
        )
        try:
            await asyncio.wait_for(started.wait(), 30)
            child = int((project / "stub-child.pid").read_text())
            assert await host.cancel("stub-1") is True
            with pytest.raises(SessionCancelledError):
                await run
            for _ in range(500):
                if not _alive(child):
                    break
                await asyncio.sleep(0.01)
            assert not _alive(child)  # the whole process group went, SIGTERM or not
            assert host.pool.idle_count() == 0  # the killed process is not pooled
        finally:
            await host.aclose()

    asyncio.run(main())
