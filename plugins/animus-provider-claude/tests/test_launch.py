"""build_launch: argv, environment, root/sandbox rules, MCP config file, bad input."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol import AgentRunRequest, RpcError
from animus_provider_claude import build_launch, normalize_mcp_servers


@pytest.fixture
def claude(tmp_path: Path) -> Path:
    path = tmp_path / "claude"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def request(cwd: Path, **fields: Any) -> AgentRunRequest:
    return AgentRunRequest.model_validate({"prompt": "do it", "cwd": str(cwd), **fields})


def test_default_argv_skips_permissions_and_names_the_session(claude: Path, tmp_path: Path) -> None:
    launch = build_launch(
        request(tmp_path, model="claude-sonnet-4-6"),
        resume=False,
        environ={"CLAUDE_BIN": str(claude), "PATH": "/bin"},
        euid=1000,
    )
    argv = launch.argv
    assert argv[:5] == [str(claude), "--print", "--verbose", "--output-format", "stream-json"]
    assert "--dangerously-skip-permissions" in argv
    assert argv[argv.index("--session-id") + 1] == launch.session_id
    assert argv[argv.index("--model") + 1] == "claude-sonnet-4-6"
    assert argv[-2:] == ["--", "do it"]
    assert "IS_SANDBOX" not in launch.env
    assert "CLAUDE_BIN" not in launch.env


def test_permission_mode_resume_effort_system_prompt(claude: Path, tmp_path: Path) -> None:
    launch = build_launch(
        request(
            tmp_path,
            session_id="sess-1",
            permission_mode="acceptEdits",
            reasoning_effort="high",
            system_prompt="be brief",
        ),
        resume=True,
        environ={"CLAUDE_BIN": str(claude)},
        euid=0,
    )
    argv = launch.argv
    assert argv[argv.index("--permission-mode") + 1] == "acceptEdits"
    assert "--dangerously-skip-permissions" not in argv
    assert argv[argv.index("--resume") + 1] == "sess-1"
    assert "--session-id" not in argv
    assert argv[argv.index("--effort") + 1] == "high"
    assert argv[argv.index("--append-system-prompt") + 1] == "be brief"
    assert launch.session_id == "sess-1"
    assert "IS_SANDBOX" not in launch.env  # acceptEdits needs no sandbox marker as root


def test_root_without_opt_in_is_a_clear_error(claude: Path, tmp_path: Path) -> None:
    for fields in ({}, {"permission_mode": "bypassPermissions"}):
        with pytest.raises(RpcError) as info:
            build_launch(
                request(tmp_path, **fields),
                resume=False,
                environ={"CLAUDE_BIN": str(claude)},
                euid=0,
            )
        assert info.value.category == "session_start_failed"
        assert "root" in info.value.message
        assert "acceptEdits" in info.value.message
        assert "ANIMUS_CLAUDE_SANDBOXED=1" in info.value.message


@pytest.mark.parametrize(
    ("environ", "fields"),
    [
        ({"ANIMUS_CLAUDE_SANDBOXED": "1"}, {}),
        ({}, {"sandboxed": True}),
        ({"IS_SANDBOX": "1"}, {}),
    ],
)
def test_root_with_opt_in_sets_is_sandbox(
    claude: Path, tmp_path: Path, environ: dict[str, str], fields: dict[str, Any]
) -> None:
    launch = build_launch(
        request(tmp_path, **fields),
        resume=False,
        environ={"CLAUDE_BIN": str(claude), **environ},
        euid=0,
    )
    assert launch.env["IS_SANDBOX"] == "1"
    assert "ANIMUS_CLAUDE_SANDBOXED" not in launch.env


def test_env_allowlist_and_removed_session_vars(claude: Path, tmp_path: Path) -> None:
    launch = build_launch(
        request(
            tmp_path,
            env={
                "ANTHROPIC_API_KEY": "k",
                "ANTHROPIC_BASE_URL": "http://127.0.0.1:1",
                "CLAUDE_CONFIG_DIR": "/cfg",
                "AWS_SECRET_ACCESS_KEY": "nope",
                "CLAUDE_BIN": "/evil",
            },
        ),
        resume=False,
        environ={
            "CLAUDE_BIN": str(claude),
            "CLAUDECODE": "1",
            "CLAUDE_CODE_ENTRYPOINT": "cli",
            "CLAUDE_CODE_SESSION_ID": "x",
            "CLAUDE_CODE_SESSION_ACCESS_TOKEN": "t",
        },
        declared_env=frozenset({"CLAUDE_CONFIG_DIR", "CLAUDE_BIN"}),
        euid=1000,
    )
    env = launch.env
    assert env["ANTHROPIC_API_KEY"] == "k"
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:1"
    assert env["CLAUDE_CONFIG_DIR"] == "/cfg"
    assert "AWS_SECRET_ACCESS_KEY" not in env
    for name in ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_CODE_SESSION_ID"):
        assert name not in env
    assert "CLAUDE_CODE_SESSION_ACCESS_TOKEN" not in env
    assert launch.ignored_env == ["AWS_SECRET_ACCESS_KEY", "CLAUDE_BIN"]
    assert launch.argv[0] == str(claude)


def test_mcp_servers_go_to_a_private_file_removed_by_cleanup(claude: Path, tmp_path: Path) -> None:
    servers = {
        "animus": {"command": "animus", "args": ["mcp", "serve"], "env": {"TOKEN": "s3cret"}},
        "docs": {"url": "http://127.0.0.1:9/mcp", "transport": "streamable-http"},
    }
    launch = build_launch(
        request(tmp_path, mcp_servers=servers),
        resume=False,
        environ={"CLAUDE_BIN": str(claude)},
        euid=1000,
    )
    argv = launch.argv
    path = Path(argv[argv.index("--mcp-config") + 1])
    assert argv[argv.index("--mcp-config") + 2] == "--strict-mcp-config"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = json.loads(path.read_text())["mcpServers"]
    assert written["animus"]["command"] == "animus"
    assert written["animus"]["env"] == {"TOKEN": "s3cret"}
    assert written["docs"] == {"url": "http://127.0.0.1:9/mcp", "type": "http"}
    # The named servers' tools are allowed, so acceptEdits/plan agents can call them.
    assert argv[argv.index("--allowedTools") + 1] == "mcp__animus,mcp__docs"
    assert argv.index("--allowedTools") < argv.index("--")
    launch.cleanup()
    assert not path.exists()


def test_mcp_tool_allowance_can_be_turned_off(claude: Path, tmp_path: Path) -> None:
    launch = build_launch(
        request(tmp_path, mcp_servers={"animus": {"command": "animus"}}, allow_mcp_tools=False),
        resume=False,
        environ={"CLAUDE_BIN": str(claude)},
        euid=1000,
    )
    assert "--allowedTools" not in launch.argv
    assert "--mcp-config" in launch.argv
    launch.cleanup()


def test_no_mcp_servers_no_allowance(claude: Path, tmp_path: Path) -> None:
    launch = build_launch(
        request(tmp_path), resume=False, environ={"CLAUDE_BIN": str(claude)}, euid=1000
    )
    assert "--allowedTools" not in launch.argv
    assert "--mcp-config" not in launch.argv


def test_mcp_server_shapes() -> None:
    assert normalize_mcp_servers(None) == {}
    as_list = normalize_mcp_servers([{"name": "a", "command": "x"}])
    as_wrapped = normalize_mcp_servers({"mcpServers": {"a": {"command": "x"}}})
    assert as_list == as_wrapped == {"a": {"command": "x", "type": "stdio"}}


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"permission_mode": "yolo"}, "unknown claude permission_mode 'yolo'"),
        ({"reasoning_effort": "extreme"}, "unknown reasoning_effort 'extreme'"),
        ({"mcp_servers": {"a": {"args": []}}}, "needs a 'command'"),
        ({"mcp_servers": {"a": {"command": "x", "args": "no"}}}, "'args' must be a list"),
        ({"mcp_servers": 7}, "expected an object or a list"),
        ({"mcp_servers": [{"command": "x"}]}, "with a 'name'"),
    ],
)
def test_bad_requests_name_the_problem(
    claude: Path, tmp_path: Path, fields: dict[str, Any], needle: str
) -> None:
    with pytest.raises(RpcError) as info:
        build_launch(
            request(tmp_path, **fields),
            resume=False,
            environ={"CLAUDE_BIN": str(claude)},
            euid=1000,
        )
    assert needle in info.value.message
    assert info.value.code == -32602


def test_missing_binary_and_missing_cwd(tmp_path: Path) -> None:
    with pytest.raises(RpcError) as info:
        build_launch(request(tmp_path), resume=False, environ={"PATH": str(tmp_path)}, euid=1000)
    assert info.value.category == "session_start_failed"
    assert "claude CLI was not found" in info.value.message
    assert "CLAUDE_BIN" in info.value.message
    with pytest.raises(RpcError) as info:
        build_launch(
            request(tmp_path), resume=False, environ={"CLAUDE_BIN": "/nope/claude"}, euid=1000
        )
    assert "CLAUDE_BIN=/nope/claude is not an executable file" in info.value.message
    with pytest.raises(RpcError) as info:
        build_launch(request(tmp_path / "gone"), resume=False, environ={}, euid=1000)
    assert "is not an existing directory" in info.value.message


def test_non_uuid_caller_id_gets_a_fresh_cli_session_id(claude: Path, tmp_path: Path) -> None:
    launch = build_launch(
        request(tmp_path, session_id="run-7-implement"),
        resume=False,
        environ={"CLAUDE_BIN": str(claude)},
        euid=1000,
    )
    assert launch.session_id == "run-7-implement"
    cli_id = launch.argv[launch.argv.index("--session-id") + 1]
    assert cli_id != "run-7-implement"
    assert len(cli_id) == 36
