from __future__ import annotations

import json

from animus_agent_runner import build_runtime_contract
from animus_config.schema import McpServer


def test_claude_contract_with_mcp_servers() -> None:
    contract = build_runtime_contract(
        tool="claude",
        model="claude-sonnet-4-6",
        run_id="run-9",
        phase_id="implement",
        agent_id="builder",
        permission_mode="acceptEdits",
        extra_args=["--effort", "high"],
        mcp_server_names=["animus", "docs", "undeclared"],
        mcp_servers={
            "animus": McpServer(command="animus", args=["mcp", "serve"], tools=["animus.task"]),
            "docs": McpServer(transport="http", url="https://docs.test/mcp", tools=["docs."]),
        },
    )
    assert json.loads(json.dumps(contract)) == contract  # plain JSON
    assert contract == {
        "cli": {
            "name": "claude",
            "capabilities": {
                "supports_mcp": True,
                "supports_write": True,
                "supports_tool_use": True,
                "supports_resume": True,
                "supports_streaming": True,
            },
            "launch": {
                "command": "claude",
                "args": [
                    "--print",
                    "--output-format",
                    "stream-json",
                    "--verbose",
                    "--model",
                    "claude-sonnet-4-6",
                    "--permission-mode",
                    "acceptEdits",
                    "--effort",
                    "high",
                ],
                "env": {},
                "prompt_via_stdin": True,
            },
            "session": {
                "mode": "new",
                "session_key": "run-9:implement",
                "session_id": None,
                "summary_seed": None,
                "reused": False,
                "phase_thread_isolated": True,
            },
        },
        "model": "claude-sonnet-4-6",
        "mcp": {
            "agent_id": "builder",
            "endpoint": "animus mcp serve",
            "enforce_only": True,
            "allowed_tool_prefixes": ["animus.task", "docs."],
            "additional_servers": {
                "docs": {"url": "https://docs.test/mcp", "transport": "http", "headers": {}}
            },
        },
    }


def test_resume_session_stdio_server_and_read_only_capability() -> None:
    contract = build_runtime_contract(
        tool="gemini",
        model="gemini-2.5-pro",
        run_id="r",
        phase_id="review",
        session_id="s-1",
        resume=True,
        capabilities={"can_write": False},
        mcp_server_names=["fs"],
        mcp_servers={"fs": {"command": "mcp-fs", "args": ["--root", "."], "env": {"A": "1"}}},
    )
    assert contract["cli"]["session"]["mode"] == "resume"
    assert contract["cli"]["session"]["session_id"] == "s-1"
    assert contract["cli"]["session"]["reused"] is True
    assert contract["cli"]["capabilities"]["supports_write"] is False
    assert contract["cli"]["launch"]["env"] == {"GEMINI_CLI_TRUST_WORKSPACE": "true"}
    assert contract["mcp"]["agent_id"] == "review"
    assert contract["mcp"]["endpoint"] is None
    assert contract["mcp"]["additional_servers"] == {
        "fs": {"command": "mcp-fs", "args": ["--root", "."], "env": {"A": "1"}}
    }


def test_other_tools_launch_lines() -> None:
    def launch(tool: str) -> dict[str, object]:
        contract = build_runtime_contract(tool=tool, model="m", run_id="r", phase_id="p")
        return contract["cli"]["launch"]  # type: ignore[no-any-return]

    assert launch("codex")["args"] == ["exec", "--json", "--skip-git-repo-check", "--model", "m"]
    assert launch("opencode")["args"] == ["run", "--format", "json", "-m", "m"]
    assert launch("oai-runner")["command"] == "animus-oai-runner"
    assert launch("mock")["command"] == "animus-provider-mock"
    unknown = build_runtime_contract(tool="acme", model=None, run_id="r", phase_id="p")
    assert unknown["cli"]["capabilities"]["supports_resume"] is False
