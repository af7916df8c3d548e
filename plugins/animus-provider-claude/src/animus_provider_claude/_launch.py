"""How one ``agent/run`` / ``agent/resume`` becomes a ``claude`` command line and environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_plugin_protocol import AgentRunRequest, RpcError
from animus_plugin_protocol.provider import resolve_cli_binary

from ._mcp import normalize_mcp_servers, write_mcp_config

__all__ = [
    "BINARY_VAR",
    "EFFORT_LEVELS",
    "PERMISSION_MODES",
    "REMOVED_ENV",
    "REQUEST_ENV_ALLOWLIST",
    "SANDBOX_OPT_IN_VAR",
    "ClaudeLaunch",
    "build_launch",
    "resolve_binary",
]

BINARY_VAR = "CLAUDE_BIN"
SANDBOX_OPT_IN_VAR = "ANIMUS_CLAUDE_SANDBOXED"
PERMISSION_MODES = (
    "acceptEdits",
    "auto",
    "bypassPermissions",
    "default",
    "dontAsk",
    "manual",
    "plan",
)
EFFORT_LEVELS = ("low", "medium", "high", "xhigh", "max")
# Request env keys forwarded to the CLI (the reference's list); anything the manifest declares
# is forwarded too, except the plugin's own switches below.
REQUEST_ENV_ALLOWLIST = (
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ENABLE_TOOL_SEARCH",
    "DISABLE_PROMPT_CACHING",
)
_PLUGIN_ONLY_ENV = frozenset({BINARY_VAR, SANDBOX_OPT_IN_VAR})
# Set by a parent claude; a nested claude that sees them thinks it runs inside that session.
REMOVED_ENV = (
    "CLAUDECODE",
    "CLAUDE_CODE_ENTRYPOINT",
    "CLAUDE_CODE_SESSION_ACCESS_TOKEN",
    "CLAUDE_CODE_SESSION_ID",
)
# Values claude accepts as "this is a disposable sandbox" before it skips permissions as root.
_SANDBOX_MARKERS = ("IS_SANDBOX", "CLAUDE_CODE_BUBBLEWRAP")


@dataclass
class ClaudeLaunch:
    """A ready-to-run command: argv, the child's environment, and files to remove after."""

    argv: list[str]
    env: dict[str, str]
    session_id: str
    temp_files: list[Path] = field(default_factory=list)
    ignored_env: list[str] = field(default_factory=list)

    def cleanup(self) -> None:
        for path in self.temp_files:
            path.unlink(missing_ok=True)


def resolve_binary(environ: Mapping[str, str]) -> str:
    """``$CLAUDE_BIN`` (must be an executable file), else ``claude`` on ``PATH``."""
    return resolve_cli_binary(
        environ, var=BINARY_VAR, command="claude", npm_package="@anthropic-ai/claude-code"
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _contract_session_id(request: AgentRunRequest) -> str | None:
    contract = request.runtime_contract
    if not isinstance(contract, dict):
        return None
    cli = contract.get("cli")
    session = cli.get("session") if isinstance(cli, dict) else None
    sid = session.get("session_id") if isinstance(session, dict) else None
    return sid if isinstance(sid, str) and sid else None


def _child_env(
    request: AgentRunRequest, environ: Mapping[str, str], declared: frozenset[str]
) -> tuple[dict[str, str], list[str]]:
    env = dict(environ)
    allowed = (set(REQUEST_ENV_ALLOWLIST) | declared) - _PLUGIN_ONLY_ENV
    ignored: list[str] = []
    for key, value in request.env.items():
        if key in allowed:
            env[key] = value
        else:
            ignored.append(key)
    for key in (*REMOVED_ENV, *_PLUGIN_ONLY_ENV):
        env.pop(key, None)
    return env, sorted(ignored)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _sandbox_ready(env: Mapping[str, str]) -> bool:
    return any(env.get(name) == "1" for name in _SANDBOX_MARKERS)


def build_launch(
    request: AgentRunRequest,
    *,
    resume: bool,
    environ: Mapping[str, str],
    declared_env: frozenset[str] = frozenset(),
    euid: int | None = None,
) -> ClaudeLaunch:
    """Validate the request and build the launch; raises `RpcError` naming any problem."""
    if not Path(request.cwd).is_dir():
        raise RpcError.invalid_params(f"cwd {request.cwd!r} is not an existing directory")
    env, ignored = _child_env(request, environ, declared_env)
    extras = request.extras
    argv = ["claude", "--print", "--verbose", "--output-format", "stream-json"]

    mode = request.permission_mode
    if mode is not None and mode not in PERMISSION_MODES:
        raise RpcError.invalid_params(
            f"unknown claude permission_mode {mode!r}; "
            f"expected one of {', '.join(PERMISSION_MODES)}"
        )
    if mode is not None:
        argv += ["--permission-mode", mode]
    else:
        argv.append("--dangerously-skip-permissions")
    skips_permissions = mode in (None, "bypassPermissions")
    if euid is None:
        euid = os.geteuid()
    if skips_permissions and euid == 0 and not _sandbox_ready(env):
        opted_in = _truthy(environ.get(SANDBOX_OPT_IN_VAR, "")) or _truthy(
            extras.get("sandboxed", False)
        )
        if not opted_in:
            raise RpcError.internal(
                "claude refuses to skip permission checks when run as root "
                f"({'--dangerously-skip-permissions' if mode is None else '--permission-mode'}"
                f"{'' if mode is None else ' bypassPermissions'}). Either request "
                "permission_mode 'acceptEdits' (edits and in-cwd commands still run), or, if "
                "this runs in a disposable container or sandbox, opt in with "
                f"{SANDBOX_OPT_IN_VAR}=1 "
                'in the plugin environment or "sandboxed": true in the request; the plugin '
                "then sets IS_SANDBOX=1 for claude",
                category="session_start_failed",
            )
        env["IS_SANDBOX"] = "1"

    if resume:
        assert request.session_id is not None
        session_id = request.session_id
        argv += ["--resume", session_id]
    else:
        # Claude takes the id we give it, so the control id (notifications, agent/cancel)
        # and the CLI's own resume id are one and the same whenever the caller's id (if
        # any) is a UUID; otherwise the CLI gets a fresh one and the response names it.
        session_id = request.session_id or str(uuid.uuid4())
        cli_session_id = _contract_session_id(request) or session_id
        if not _is_uuid(cli_session_id):
            cli_session_id = str(uuid.uuid4())
        argv += ["--session-id", cli_session_id]

    if request.model:
        argv += ["--model", request.model]
    effort = extras.get("reasoning_effort")
    if effort is not None:
        if effort not in EFFORT_LEVELS:
            raise RpcError.invalid_params(
                f"unknown reasoning_effort {effort!r}; claude accepts {', '.join(EFFORT_LEVELS)}"
            )
        argv += ["--effort", str(effort)]
    if request.system_prompt:
        argv += ["--append-system-prompt", request.system_prompt]
    if _truthy(extras.get("stream_partial", False)):
        # Live text deltas (agent/output final=false) as the model streams them.
        argv.append("--include-partial-messages")

    servers = normalize_mcp_servers(request.mcp_servers)
    # The request is valid; now the things that touch the system.
    argv[0] = resolve_binary(environ)
    launch = ClaudeLaunch(argv, env, session_id, ignored_env=ignored)
    if servers:
        path = write_mcp_config(servers)
        launch.temp_files.append(path)
        argv += ["--mcp-config", str(path), "--strict-mcp-config"]
        # In --print mode the acceptEdits and plan permission modes deny MCP tools that were
        # never granted interactively; the servers the request names are the ones the
        # operator gave this agent, so their tools are allowed unless the request opts out.
        if _truthy(extras.get("allow_mcp_tools", True)):
            argv += ["--allowedTools", ",".join(f"mcp__{name}" for name in sorted(servers))]
    # `--` ends the options, so a prompt that starts with "-" is still the prompt.
    argv += ["--", request.prompt]
    return launch
