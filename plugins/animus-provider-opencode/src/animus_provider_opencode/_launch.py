"""How one ``agent/run`` / ``agent/resume`` becomes an ``opencode run`` command line and env."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_plugin_protocol import AgentRunRequest, RpcError
from animus_plugin_protocol.provider import resolve_cli_binary

__all__ = [
    "BINARY_VAR",
    "CONFIG_CONTENT_VAR",
    "PERMISSION_MODES",
    "PROVIDER_KEY_VARS",
    "OpencodeLaunch",
    "build_launch",
    "opencode_mcp",
    "permission_options",
    "resolve_binary",
]

BINARY_VAR = "OPENCODE_BIN"
CONFIG_CONTENT_VAR = "OPENCODE_CONFIG_CONTENT"
PERMISSION_MODES = ("auto", "bypassPermissions", "default", "acceptEdits", "plan")
# Built-in providers and the variable each reads its key from (when not logged in).
PROVIDER_KEY_VARS: dict[str, tuple[str, ...]] = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "google": ("GOOGLE_GENERATIVE_AI_API_KEY", "GEMINI_API_KEY"),
    "openrouter": ("OPENROUTER_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
}
_PLUGIN_ONLY_ENV = frozenset({BINARY_VAR})
_TITLE_CHARS = 60


@dataclass
class OpencodeLaunch:
    argv: list[str]
    env: dict[str, str]
    session_id: str
    mcp_servers: frozenset[str] = frozenset()
    warnings: list[str] = field(default_factory=list)


def resolve_binary(environ: Mapping[str, str]) -> str:
    """``$OPENCODE_BIN`` (must be an executable file), else ``opencode`` on ``PATH``."""
    return resolve_cli_binary(
        environ, var=BINARY_VAR, command="opencode", npm_package="opencode-ai"
    )


def permission_options(mode: str | None) -> tuple[list[str], dict[str, Any]]:
    """``permission_mode`` -> (extra flags, config overlay).

    A headless run cannot answer a permission prompt, so no mode (and ``auto`` /
    ``bypassPermissions``) means ``--auto``: approve what the config does not deny.
    ``acceptEdits`` allows edits and leaves commands to the config; ``plan`` runs opencode's
    read-only ``plan`` agent; ``default`` leaves everything to the operator's config.
    """
    if mode in (None, "auto", "bypassPermissions"):
        return ["--auto"], {}
    if mode == "default":
        return [], {}
    if mode == "acceptEdits":
        return [], {"permission": {"edit": "allow"}}
    if mode == "plan":
        return ["--agent", "plan"], {}
    raise RpcError.invalid_params(
        f"unknown opencode permission_mode {mode!r}; expected one of {', '.join(PERMISSION_MODES)}"
    )


def _bad_mcp(message: str) -> RpcError:
    return RpcError.invalid_params(f"mcp_servers: {message}")


def opencode_mcp(value: Any) -> dict[str, dict[str, Any]]:
    """The request's MCP servers as opencode's ``mcp`` config map.

    ``{command, args?, env?}`` becomes ``{type: local, command: [command, *args],
    environment}``; ``{url, headers?}`` becomes ``{type: remote, url, headers}``.
    """
    if value is None:
        return {}
    if isinstance(value, dict) and isinstance(value.get("mcpServers"), dict):
        value = value["mcpServers"]
    if isinstance(value, list):
        pairs = []
        for spec in value:
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise _bad_mcp("each list entry must be an object with a 'name'")
            pairs.append((spec["name"], spec))
        value = dict(pairs)
    if not isinstance(value, dict):
        raise _bad_mcp(f"expected an object or a list, got {type(value).__name__}")
    servers: dict[str, dict[str, Any]] = {}
    for name, spec in value.items():
        if not isinstance(name, str) or not name.strip() or not isinstance(spec, dict):
            raise _bad_mcp(f"server {name!r} must be a non-empty name with an object")
        command, url = spec.get("command"), spec.get("url")
        if isinstance(command, str) and command:
            args = spec.get("args", [])
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise _bad_mcp(f"server {name!r}: 'args' must be a list of strings")
            env = spec.get("env", {})
            if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
                raise _bad_mcp(f"server {name!r}: 'env' must map names to strings")
            entry: dict[str, Any] = {"type": "local", "command": [command, *args]}
            if env:
                entry["environment"] = env
        elif isinstance(url, str) and url:
            entry = {"type": "remote", "url": url}
            if isinstance(spec.get("headers"), dict):
                entry["headers"] = spec["headers"]
        else:
            raise _bad_mcp(f"server {name!r} needs a 'command' (stdio) or a 'url' (remote)")
        entry["enabled"] = True
        servers[name] = entry
    return servers


def _merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _logged_in_providers(env: Mapping[str, str]) -> set[str]:
    data_home = env.get("XDG_DATA_HOME") or str(
        Path(env.get("HOME") or Path.home()) / ".local" / "share"
    )
    try:
        auth = json.loads((Path(data_home) / "opencode" / "auth.json").read_text("utf-8"))
    except (OSError, ValueError):
        return set()
    return set(auth) if isinstance(auth, dict) else set()


def _check_credentials(
    model: str | None, config: Mapping[str, Any], env: Mapping[str, str]
) -> None:
    """A model of a built-in provider needs its key variable (or ``opencode auth login``)."""
    if not model or "/" not in model:
        return
    provider = model.split("/", 1)[0]
    names = PROVIDER_KEY_VARS.get(provider)
    configured = config.get("provider")
    if names is None or (isinstance(configured, dict) and provider in configured):
        return
    if any(env.get(name) for name in names) or env.get("OPENCODE_AUTH_CONTENT"):
        return
    if provider in _logged_in_providers(env):
        return
    raise RpcError.internal(
        f"opencode model {model!r} needs credentials for provider {provider!r}: set "
        f"{' or '.join(names)} in the plugin environment or the request env, or run "
        "`opencode auth login`",
        category="session_start_failed",
    )


def build_launch(
    request: AgentRunRequest,
    *,
    resume: bool,
    environ: Mapping[str, str],
    declared_env: frozenset[str] = frozenset(),
) -> OpencodeLaunch:
    """Validate the request and build the launch; raises `RpcError` naming any problem."""
    if not Path(request.cwd).is_dir():
        raise RpcError.invalid_params(f"cwd {request.cwd!r} is not an existing directory")
    extras = request.extras
    flags, permission_config = permission_options(request.permission_mode)
    env = dict(environ)
    key_vars = {name for names in PROVIDER_KEY_VARS.values() for name in names}
    allowed = (key_vars | declared_env) - _PLUGIN_ONLY_ENV
    ignored = sorted(key for key in request.env if key not in allowed)
    env.update({k: v for k, v in request.env.items() if k in allowed})
    for key in _PLUGIN_ONLY_ENV:
        env.pop(key, None)
    warnings = []
    if ignored:
        warnings.append(
            "request env not forwarded to opencode (not allowlisted): " + ", ".join(ignored)
        )

    config: dict[str, Any] = {}
    existing = env.get(CONFIG_CONTENT_VAR)
    if existing:
        try:
            loaded = json.loads(existing)
        except ValueError as exc:
            raise RpcError.internal(
                f"{CONFIG_CONTENT_VAR} in the plugin environment is not JSON: {exc}",
                category="session_start_failed",
            ) from None
        if isinstance(loaded, dict):
            config = loaded
    extra_config = extras.get("opencode_config")
    if extra_config is not None:
        if not isinstance(extra_config, dict):
            raise RpcError.invalid_params(
                f"opencode_config must be an object (opencode.json as JSON), got "
                f"{type(extra_config).__name__}"
            )
        config = _merge(config, extra_config)
    config = _merge(config, permission_config)
    servers = opencode_mcp(request.mcp_servers)
    if servers:
        config = _merge(config, {"mcp": servers})
    if request.system_prompt:
        # opencode has no system prompt flag; its `instructions` are files, so the text
        # travels ahead of the prompt instead.
        prompt = f"{request.system_prompt}\n\n{request.prompt}"
    else:
        prompt = request.prompt
    _check_credentials(request.model, config, env)

    argv = ["opencode", "run"]
    if resume:
        assert request.session_id is not None
        session_id = request.session_id
        argv += ["--session", session_id]
    else:
        session_id = request.session_id or str(uuid.uuid4())
        # A title of our own saves the extra model request opencode makes to invent one.
        title = " ".join(request.prompt.split())[:_TITLE_CHARS] or "animus run"
        argv += ["--title", title]
    if request.model:
        argv += ["-m", request.model]
    effort = extras.get("reasoning_effort")
    if effort is not None:
        if not isinstance(effort, str) or not effort:
            raise RpcError.invalid_params("reasoning_effort must be a non-empty string")
        argv += ["--variant", effort]
    argv += [*flags, "--thinking", "--format", "json"]
    if config:
        env[CONFIG_CONTENT_VAR] = json.dumps(config)
    env.setdefault("OPENCODE_DISABLE_AUTOUPDATE", "1")
    # The request is valid; now the things that touch the system.
    argv[0] = resolve_binary(environ)
    # `--` ends the options, so a prompt that starts with "-" is still the prompt.
    argv += ["--", prompt]
    return OpencodeLaunch(argv, env, session_id, frozenset(servers), warnings)
