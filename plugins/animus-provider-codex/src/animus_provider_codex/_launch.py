"""How one ``agent/run`` / ``agent/resume`` becomes a ``codex exec`` command line and env."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_plugin_protocol import AgentRunRequest, RpcError
from animus_plugin_protocol.provider import resolve_cli_binary

from ._toml import toml_document, toml_key, toml_value

__all__ = [
    "APPROVAL_POLICIES",
    "BINARY_VAR",
    "CODEX_HOMES_VAR",
    "EFFORT_LEVELS",
    "REQUEST_ENV_ALLOWLIST",
    "SANDBOX_MODES",
    "CodexLaunch",
    "build_launch",
    "codex_home_for",
    "mcp_overrides",
    "permission_options",
    "resolve_binary",
]

BINARY_VAR = "CODEX_BIN"
CODEX_HOMES_VAR = "ANIMUS_CODEX_HOMES"
APPROVAL_POLICIES = ("untrusted", "on-failure", "on-request", "never")
SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")
EFFORT_LEVELS = ("minimal", "low", "medium", "high", "xhigh")
REQUEST_ENV_ALLOWLIST = ("OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL")
_PLUGIN_ONLY_ENV = frozenset({BINARY_VAR, CODEX_HOMES_VAR})
# Claude-style modes (what a workflow written for claude asks for) mapped to the nearest
# codex approval policy + sandbox. `codex exec` cannot ask anyone, so "never" is the default.
_MODE_ALIASES: dict[str, tuple[str, str]] = {
    "acceptEdits": ("never", "workspace-write"),
    "bypassPermissions": ("never", "danger-full-access"),
    "plan": ("never", "read-only"),
    "default": ("on-request", "workspace-write"),
}
_DEFAULT_PERMISSIONS = ("never", "workspace-write")


@dataclass
class CodexLaunch:
    argv: list[str]
    env: dict[str, str]
    session_id: str
    codex_home: Path | None = None
    ignored_env: list[str] = field(default_factory=list)


def resolve_binary(environ: Mapping[str, str]) -> str:
    """``$CODEX_BIN`` (must be an executable file), else ``codex`` on ``PATH``."""
    return resolve_cli_binary(environ, var=BINARY_VAR, command="codex", npm_package="@openai/codex")


def permission_options(mode: str | None, extras: Mapping[str, Any]) -> tuple[str, str]:
    """``permission_mode`` (+ extras ``sandbox`` / ``approval_policy``) -> (approval, sandbox).

    Accepts codex approval policies, codex sandbox modes, and claude-style modes.
    """
    if mode is None:
        approval, sandbox = _DEFAULT_PERMISSIONS
    elif mode in APPROVAL_POLICIES:
        approval, sandbox = mode, _DEFAULT_PERMISSIONS[1]
    elif mode in SANDBOX_MODES:
        approval, sandbox = _DEFAULT_PERMISSIONS[0], mode
    elif mode in _MODE_ALIASES:
        approval, sandbox = _MODE_ALIASES[mode]
    else:
        known = [*APPROVAL_POLICIES, *SANDBOX_MODES, *_MODE_ALIASES]
        raise RpcError.invalid_params(
            f"unknown codex permission_mode {mode!r}; expected one of {', '.join(known)}"
        )
    override_sandbox = extras.get("sandbox")
    if override_sandbox is not None:
        if override_sandbox not in SANDBOX_MODES:
            raise RpcError.invalid_params(
                f"unknown codex sandbox {override_sandbox!r}; expected one of "
                f"{', '.join(SANDBOX_MODES)}"
            )
        sandbox = str(override_sandbox)
    override_approval = extras.get("approval_policy")
    if override_approval is not None:
        if override_approval not in APPROVAL_POLICIES:
            raise RpcError.invalid_params(
                f"unknown codex approval_policy {override_approval!r}; expected one of "
                f"{', '.join(APPROVAL_POLICIES)}"
            )
        approval = str(override_approval)
    return approval, sandbox


def _mcp_servers(value: Any) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if isinstance(value, dict) and isinstance(value.get("mcpServers"), dict):
        value = value["mcpServers"]
    if isinstance(value, list):
        pairs = []
        for spec in value:
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise RpcError.invalid_params(
                    "mcp_servers: each list entry must be an object with a 'name'"
                )
            pairs.append((spec["name"], spec))
        value = dict(pairs)
    if not isinstance(value, dict):
        raise RpcError.invalid_params(
            f"mcp_servers: expected an object or a list, got {type(value).__name__}"
        )
    servers: dict[str, dict[str, Any]] = {}
    for name, spec in value.items():
        if not isinstance(name, str) or not name.strip() or not isinstance(spec, dict):
            raise RpcError.invalid_params(
                f"mcp_servers: server {name!r} must be a non-empty name with an object"
            )
        servers[name] = spec
    return servers


def mcp_overrides(value: Any) -> list[str]:
    """``-c mcp_servers.<name>.<key>=<toml>`` arguments for the request's MCP servers."""
    args: list[str] = []
    for name, spec in _mcp_servers(value).items():
        prefix = f"mcp_servers.{toml_key(name)}"
        entry: dict[str, Any] = {}
        if isinstance(spec.get("command"), str) and spec["command"]:
            entry["command"] = spec["command"]
            for key in ("args", "env", "cwd", "startup_timeout_sec", "tool_timeout_sec"):
                if key in spec:
                    entry[key] = spec[key]
            if "args" in entry and not (
                isinstance(entry["args"], list) and all(isinstance(a, str) for a in entry["args"])
            ):
                raise RpcError.invalid_params(
                    f"mcp_servers: server {name!r}: 'args' must be a list of strings"
                )
        elif isinstance(spec.get("url"), str) and spec["url"]:
            entry["url"] = spec["url"]
            headers = spec.get("http_headers", spec.get("headers"))
            if headers is not None:
                entry["http_headers"] = headers
            if "bearer_token_env_var" in spec:
                entry["bearer_token_env_var"] = spec["bearer_token_env_var"]
        else:
            raise RpcError.invalid_params(
                f"mcp_servers: server {name!r} needs a 'command' (stdio) or a 'url' (http)"
            )
        for key, val in entry.items():
            try:
                rendered = toml_value(val)
            except TypeError as exc:
                raise RpcError.invalid_params(f"mcp_servers: server {name!r}: {exc}") from None
            args += ["-c", f"{prefix}.{key}={rendered}"]
    return args


def codex_home_for(extras: Mapping[str, Any], environ: Mapping[str, str]) -> Path | None:
    """The per-run ``CODEX_HOME`` when the request brings its own codex config, else None.

    ``codex_home`` names the directory; ``codex_config`` (a dict) is written as its
    ``config.toml`` (0600). Without ``codex_home`` the directory is derived from the config's
    hash under ``$ANIMUS_CODEX_HOMES`` (default ``~/.animus/codex-homes``), so a later
    ``agent/resume`` with the same config finds the thread codex recorded there.
    """
    home_value = extras.get("codex_home")
    config = extras.get("codex_config")
    if home_value is None and config is None:
        return None
    if config is not None and not isinstance(config, dict):
        raise RpcError.invalid_params(
            f"codex_config must be an object (TOML as JSON), got {type(config).__name__}"
        )
    if home_value is not None:
        if not isinstance(home_value, str) or not home_value:
            raise RpcError.invalid_params("codex_home must be a directory path")
        home = Path(home_value).expanduser()
    else:
        assert config is not None
        digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
        base = environ.get(CODEX_HOMES_VAR) or str(
            Path(environ.get("HOME") or Path.home()) / ".animus" / "codex-homes"
        )
        home = Path(base).expanduser() / digest
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if config is not None:
        try:
            document = toml_document(config)
        except TypeError as exc:
            raise RpcError.invalid_params(f"codex_config: {exc}") from None
        target = home / "config.toml"
        if not target.exists() or target.read_text(encoding="utf-8") != document:
            tmp = home / f".config.toml.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(document)
            tmp.replace(target)
    _copy_auth(home, environ)
    return home


def _copy_auth(home: Path, environ: Mapping[str, str]) -> None:
    """Bring the operator's ``auth.json`` (``codex login``) into a per-run home."""
    if (home / "auth.json").exists():
        return
    operator_home = environ.get("CODEX_HOME") or str(
        Path(environ.get("HOME") or Path.home()) / ".codex"
    )
    source = Path(operator_home) / "auth.json"
    if source.is_file() and source.resolve() != (home / "auth.json").resolve():
        shutil.copyfile(source, home / "auth.json")
        (home / "auth.json").chmod(0o600)


def _provider_key_vars(extras: Mapping[str, Any]) -> set[str]:
    config = extras.get("codex_config")
    providers = config.get("model_providers") if isinstance(config, dict) else None
    names: set[str] = set()
    if isinstance(providers, dict):
        for provider in providers.values():
            if isinstance(provider, dict) and isinstance(provider.get("env_key"), str):
                names.add(provider["env_key"])
    return names


def build_launch(
    request: AgentRunRequest,
    *,
    resume: bool,
    environ: Mapping[str, str],
    declared_env: frozenset[str] = frozenset(),
) -> CodexLaunch:
    """Validate the request and build the launch; raises `RpcError` naming any problem."""
    if not Path(request.cwd).is_dir():
        raise RpcError.invalid_params(f"cwd {request.cwd!r} is not an existing directory")
    extras = request.extras
    approval, sandbox = permission_options(request.permission_mode, extras)

    env = dict(environ)
    allowed = (set(REQUEST_ENV_ALLOWLIST) | declared_env | _provider_key_vars(extras)) - (
        _PLUGIN_ONLY_ENV
    )
    ignored: list[str] = []
    for key, value in request.env.items():
        if key in allowed:
            env[key] = value
        else:
            ignored.append(key)
    for key in _PLUGIN_ONLY_ENV:
        env.pop(key, None)
    argv = ["codex", "exec"]
    if resume:
        assert request.session_id is not None
        session_id = request.session_id
        argv += ["resume", session_id]
    else:
        session_id = request.session_id or str(uuid.uuid4())
    argv += ["--json", "--skip-git-repo-check"]
    argv += ["-c", f"approval_policy={toml_value(approval)}"]
    argv += ["-c", f"sandbox_mode={toml_value(sandbox)}"]
    if sandbox == "workspace-write":
        network = extras.get("network_access", True)
        argv += ["-c", f"sandbox_workspace_write.network_access={toml_value(bool(network))}"]
    if request.model:
        argv += ["--model", request.model]
    effort = extras.get("reasoning_effort")
    if effort is not None:
        if effort not in EFFORT_LEVELS:
            raise RpcError.invalid_params(
                f"unknown reasoning_effort {effort!r}; codex accepts {', '.join(EFFORT_LEVELS)}"
            )
        argv += ["-c", f"model_reasoning_effort={toml_value(effort)}"]
    if request.system_prompt:
        argv += ["-c", f"developer_instructions={toml_value(request.system_prompt)}"]
    argv += mcp_overrides(request.mcp_servers)
    # The request is valid; now the things that touch the system.
    argv[0] = resolve_binary(environ)
    codex_home = codex_home_for(extras, environ)
    if codex_home is not None:
        env["CODEX_HOME"] = str(codex_home)
    # `--` ends the options, so a prompt that starts with "-" is still the prompt.
    argv += ["--", request.prompt]
    return CodexLaunch(argv, env, session_id, codex_home, sorted(ignored))
