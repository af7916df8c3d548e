"""build_launch: argv, permission mapping, CODEX_HOME, MCP overrides, env, bad input."""

from __future__ import annotations

import itertools
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol import AgentRunRequest, RpcError
from animus_provider_codex import build_launch, mcp_overrides, permission_options


@pytest.fixture
def codex(tmp_path: Path) -> Path:
    path = tmp_path / "codex"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def request(cwd: Path, **fields: Any) -> AgentRunRequest:
    return AgentRunRequest.model_validate({"prompt": "-do it", "cwd": str(cwd), **fields})


def option(argv: list[str], key: str) -> str:
    values = [v for f, v in itertools.pairwise(argv) if f == "-c" and v.startswith(key)]
    assert len(values) == 1, (key, argv)
    return values[0].split("=", 1)[1]


def test_default_argv(codex: Path, tmp_path: Path) -> None:
    launch = build_launch(
        request(tmp_path, model="gpt-5.5", reasoning_effort="high", system_prompt='say "hi"'),
        resume=False,
        environ={"CODEX_BIN": str(codex), "HOME": str(tmp_path)},
    )
    argv = launch.argv
    assert argv[:4] == [str(codex), "exec", "--json", "--skip-git-repo-check"]
    assert option(argv, "approval_policy=") == '"never"'
    assert option(argv, "sandbox_mode=") == '"workspace-write"'
    assert option(argv, "sandbox_workspace_write.network_access=") == "true"
    assert argv[argv.index("--model") + 1] == "gpt-5.5"
    assert option(argv, "model_reasoning_effort=") == '"high"'
    assert tomllib.loads("v=" + option(argv, "developer_instructions="))["v"] == 'say "hi"'
    assert argv[-2:] == ["--", "-do it"]  # a prompt starting with "-" stays the prompt
    assert launch.codex_home is None
    assert "CODEX_HOME" not in launch.env
    assert "CODEX_BIN" not in launch.env


def test_resume_puts_the_thread_after_resume(codex: Path, tmp_path: Path) -> None:
    launch = build_launch(
        request(tmp_path, session_id="thread-1", permission_mode="on-failure"),
        resume=True,
        environ={"CODEX_BIN": str(codex)},
    )
    assert launch.argv[1:5] == ["exec", "resume", "thread-1", "--json"]
    assert launch.session_id == "thread-1"
    assert option(launch.argv, "approval_policy=") == '"on-failure"'


@pytest.mark.parametrize(
    ("mode", "extras", "expected"),
    [
        (None, {}, ("never", "workspace-write")),
        ("untrusted", {}, ("untrusted", "workspace-write")),
        ("read-only", {}, ("never", "read-only")),
        ("bypassPermissions", {}, ("never", "danger-full-access")),
        ("plan", {}, ("never", "read-only")),
        ("acceptEdits", {"sandbox": "read-only"}, ("never", "read-only")),
        (None, {"approval_policy": "on-request"}, ("on-request", "workspace-write")),
    ],
)
def test_permission_mapping(
    mode: str | None, extras: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert permission_options(mode, extras) == expected


def test_codex_config_makes_a_stable_private_codex_home(codex: Path, tmp_path: Path) -> None:
    operator = tmp_path / "operator-codex"
    operator.mkdir()
    (operator / "auth.json").write_text('{"token": "t"}')
    config = {
        "model": "gpt-5.5",
        "model_provider": "scripted",
        "model_providers": {"scripted": {"base_url": "http://127.0.0.1:1/v1", "env_key": "K"}},
    }
    environ = {
        "CODEX_BIN": str(codex),
        "ANIMUS_CODEX_HOMES": str(tmp_path / "homes"),
        "CODEX_HOME": str(operator),
    }
    first = build_launch(
        request(tmp_path, codex_config=config, env={"K": "secret", "OTHER": "x"}),
        resume=False,
        environ=environ,
    )
    home = first.codex_home
    assert home is not None
    assert first.env["CODEX_HOME"] == str(home)
    assert home.parent == tmp_path / "homes"
    written = home / "config.toml"
    assert tomllib.loads(written.read_text()) == config
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert (home / "auth.json").read_text() == '{"token": "t"}'
    assert first.env["K"] == "secret"  # the provider's env_key is forwarded
    assert first.ignored_env == ["OTHER"]
    again = build_launch(
        request(tmp_path, codex_config=config, session_id="t", env={}),
        resume=True,
        environ=environ,
    )
    assert again.codex_home == home  # resume finds the thread codex recorded there
    explicit = build_launch(
        request(tmp_path, codex_home=str(tmp_path / "mine")), resume=False, environ=environ
    )
    assert explicit.env["CODEX_HOME"] == str(tmp_path / "mine")


def test_mcp_overrides_are_toml() -> None:
    args = mcp_overrides(
        {
            "animus": {"command": "animus", "args": ["mcp", "serve"], "env": {"T": "s"}},
            "docs site": {"url": "http://127.0.0.1:9/mcp", "headers": {"X": "1"}},
        }
    )
    pairs = [args[i + 1] for i in range(0, len(args), 2)]
    assert all(args[i] == "-c" for i in range(0, len(args), 2))
    assert 'mcp_servers.animus.command="animus"' in pairs
    assert 'mcp_servers.animus.args=["mcp", "serve"]' in pairs
    assert 'mcp_servers.animus.env={T = "s"}' in pairs
    assert 'mcp_servers."docs site".url="http://127.0.0.1:9/mcp"' in pairs
    assert 'mcp_servers."docs site".http_headers={X = "1"}' in pairs
    assert mcp_overrides([{"name": "a", "command": "x"}]) == ["-c", 'mcp_servers.a.command="x"']


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"permission_mode": "yolo"}, "unknown codex permission_mode 'yolo'"),
        ({"sandbox": "none"}, "unknown codex sandbox 'none'"),
        ({"approval_policy": "sometimes"}, "unknown codex approval_policy"),
        ({"reasoning_effort": "max"}, "unknown reasoning_effort 'max'"),
        ({"mcp_servers": {"a": {}}}, "needs a 'command'"),
        ({"mcp_servers": {"a": {"command": "x", "args": [1]}}}, "'args' must be a list"),
        ({"mcp_servers": "x"}, "expected an object or a list"),
        ({"codex_config": "model = 1"}, "codex_config must be an object"),
        ({"codex_config": {"a": None}}, "codex_config: cannot express NoneType"),
        ({"codex_home": ""}, "codex_home must be a directory path"),
    ],
)
def test_bad_requests_name_the_problem(
    codex: Path, tmp_path: Path, fields: dict[str, Any], needle: str
) -> None:
    environ = {"CODEX_BIN": str(codex), "ANIMUS_CODEX_HOMES": str(tmp_path / "h")}
    with pytest.raises(RpcError) as info:
        build_launch(request(tmp_path, **fields), resume=False, environ=environ)
    assert needle in info.value.message
    assert info.value.code == -32602


def test_missing_binary_and_missing_cwd(tmp_path: Path) -> None:
    with pytest.raises(RpcError) as info:
        build_launch(request(tmp_path), resume=False, environ={"PATH": str(tmp_path)})
    assert info.value.category == "session_start_failed"
    assert "codex CLI was not found" in info.value.message
    assert "CODEX_BIN" in info.value.message
    with pytest.raises(RpcError) as info:
        build_launch(request(tmp_path), resume=False, environ={"CODEX_BIN": "/nope/codex"})
    assert "CODEX_BIN=/nope/codex is not an executable file" in info.value.message
    with pytest.raises(RpcError) as info:
        build_launch(request(tmp_path / "gone"), resume=False, environ={})
    assert "is not an existing directory" in info.value.message
