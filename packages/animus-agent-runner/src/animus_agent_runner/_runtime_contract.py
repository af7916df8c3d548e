"""The runtime contract: a plain JSON dict that tells a provider how to launch its CLI.

Shape (spec §9): ``{cli: {name, capabilities, launch: {command, args, env,
prompt_via_stdin}, session: {mode, session_key, session_id, summary_seed, reused,
phase_thread_isolated}}, model, mcp: {agent_id, endpoint, enforce_only,
allowed_tool_prefixes, additional_servers: {name: {command, args, env} | {url, transport,
headers}}}}``. Providers own the real command line; ``launch`` is the kernel's statement
of intent (model, permission mode, extra args), which providers may refine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from animus_session_host import normalize_tool

__all__ = ["ANIMUS_MCP_SERVER", "CLI_CAPABILITIES", "build_runtime_contract"]

ANIMUS_MCP_SERVER = "animus"

_FULL = {
    "supports_mcp": True,
    "supports_write": True,
    "supports_tool_use": True,
    "supports_resume": True,
    "supports_streaming": True,
}
CLI_CAPABILITIES: dict[str, dict[str, bool]] = {
    "claude": dict(_FULL),
    "codex": dict(_FULL),
    "gemini": dict(_FULL),
    "opencode": dict(_FULL),
    "oai": dict(_FULL),
    "mock": {**_FULL, "supports_mcp": False},
}
_UNKNOWN_CAPABILITIES = {**_FULL, "supports_mcp": False, "supports_resume": False}


def _launch(
    tool: str, model: str | None, permission_mode: str | None, extra_args: Sequence[str]
) -> dict[str, Any]:
    args: list[str]
    env: dict[str, str] = {}
    stdin = False
    if tool == "claude":
        command = "claude"
        args = ["--print", "--output-format", "stream-json", "--verbose"]
        if model:
            args += ["--model", model]
        if permission_mode:
            args += ["--permission-mode", permission_mode]
        stdin = True
    elif tool == "codex":
        command = "codex"
        args = ["exec", "--json", "--skip-git-repo-check"]
        if model:
            args += ["--model", model]
        if permission_mode:
            args += ["-c", f"approval_policy={permission_mode}"]
        stdin = True
    elif tool == "gemini":
        command = "gemini"
        args = ["--output-format", "json"]
        if model:
            args += ["--model", model]
        if permission_mode:
            args += ["--approval-mode", permission_mode]
        env["GEMINI_CLI_TRUST_WORKSPACE"] = "true"
    elif tool == "opencode":
        command = "opencode"
        args = ["run", "--format", "json"] + (["-m", model] if model else [])
    elif tool == "oai":
        command = "animus-oai-runner"
        args = ["run", "--format", "json"] + (["-m", model] if model else [])
    else:
        command = f"animus-provider-{tool}"
        args = []
    return {
        "command": command,
        "args": [*args, *extra_args],
        "env": env,
        "prompt_via_stdin": stdin,
    }


def _server_entry(server: Any) -> dict[str, Any]:
    data: Mapping[str, Any]
    if isinstance(server, Mapping):
        data = server
    else:
        data = server.model_dump(mode="json", exclude_none=True)
    if data.get("transport") == "http" or (data.get("url") and not data.get("command")):
        headers = data.get("headers") or {}
        return {"url": data["url"], "transport": "http", "headers": dict(headers)}
    return {
        "command": data.get("command"),
        "args": list(data.get("args") or []),
        "env": dict(data.get("env") or {}),
    }


def build_runtime_contract(
    *,
    tool: str,
    model: str | None,
    run_id: str,
    phase_id: str,
    agent_id: str | None = None,
    session_id: str | None = None,
    resume: bool = False,
    permission_mode: str | None = None,
    extra_args: Sequence[str] = (),
    capabilities: Mapping[str, bool] | None = None,
    mcp_server_names: Sequence[str] = (),
    mcp_servers: Mapping[str, Any] | None = None,
    summary_seed: str | None = None,
) -> dict[str, Any]:
    """The runtime contract for one phase session (a JSON-ready dict).

    ``mcp_server_names`` are the servers the agent may use (its ``mcp_servers``);
    ``mcp_servers`` the declared server definitions by name. ``animus`` is the built-in
    server (``animus mcp serve``); the others become ``mcp.additional_servers``. Servers
    are only visible when named (``enforce_only``). ``capabilities`` (phase over agent,
    e.g. ``can_write``) narrow what the CLI is told it may do.
    """
    name = normalize_tool(tool)
    caps = dict(CLI_CAPABILITIES.get(name, _UNKNOWN_CAPABILITIES))
    if capabilities is not None and capabilities.get("can_write") is False:
        caps["supports_write"] = False
    declared = dict(mcp_servers or {})
    additional: dict[str, Any] = {}
    prefixes: list[str] = []
    for server in sorted(set(mcp_server_names)):
        if server == ANIMUS_MCP_SERVER:
            definition = declared.get(server)
            tools = _field_list(definition, "tools")
            prefixes += tools or ["animus."]
            continue
        if server in declared:
            additional[server] = _server_entry(declared[server])
            prefixes += _field_list(declared[server], "tools")
    uses_animus = ANIMUS_MCP_SERVER in mcp_server_names
    return {
        "cli": {
            "name": name,
            "capabilities": caps,
            "launch": _launch(name, model, permission_mode, list(extra_args)),
            "session": {
                "mode": "resume" if resume else "new",
                "session_key": f"{run_id}:{phase_id}",
                "session_id": session_id,
                "summary_seed": summary_seed,
                "reused": bool(resume and session_id),
                "phase_thread_isolated": True,
            },
        },
        "model": model,
        "mcp": {
            "agent_id": agent_id or phase_id,
            "endpoint": "animus mcp serve" if uses_animus else None,
            "enforce_only": True,
            "allowed_tool_prefixes": sorted(set(prefixes)),
            "additional_servers": additional,
        },
    }


def _field_list(obj: Any, name: str) -> list[str]:
    if obj is None:
        return []
    value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
    return [str(v) for v in value] if isinstance(value, list) else []
