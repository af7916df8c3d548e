"""How one ``agent/run`` / ``agent/resume`` becomes a ``gemini`` command line and environment."""

from __future__ import annotations

import json
import os
import stat
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_plugin_protocol import AgentRunRequest, RpcError
from animus_plugin_protocol.provider import resolve_cli_binary

__all__ = [
    "APPROVAL_MODES",
    "BINARY_VAR",
    "KEY_VARS",
    "REQUEST_ENV_ALLOWLIST",
    "SETTINGS_DIR_VAR",
    "GeminiLaunch",
    "approval_args",
    "build_launch",
    "gemini_mcp_servers",
    "insecure_ancestor",
    "resolve_binary",
]

BINARY_VAR = "GEMINI_BIN"
SETTINGS_DIR_VAR = "ANIMUS_GEMINI_SETTINGS_DIR"
SYSTEM_SETTINGS_VAR = "GEMINI_CLI_SYSTEM_SETTINGS_PATH"
APPROVAL_MODES = ("default", "auto_edit", "yolo", "plan")
# Claude-style modes (what a workflow written for claude asks for) -> gemini approval modes.
_MODE_ALIASES = {"acceptEdits": "auto_edit", "bypassPermissions": "yolo"}
# Any one of these lets the CLI authenticate without an interactive login.
KEY_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
_VERTEX_VARS = ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_APPLICATION_CREDENTIALS")
REQUEST_ENV_ALLOWLIST = (
    *KEY_VARS,
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_GENAI_USE_VERTEXAI",
)
_PLUGIN_ONLY_ENV = frozenset({BINARY_VAR, SETTINGS_DIR_VAR})


@dataclass
class GeminiLaunch:
    """A ready-to-run command: argv, the child's environment, and files to remove after."""

    argv: list[str]
    env: dict[str, str]
    session_id: str
    temp_files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def cleanup(self) -> None:
        for path in self.temp_files:
            path.unlink(missing_ok=True)


def resolve_binary(environ: Mapping[str, str]) -> str:
    """``$GEMINI_BIN`` (must be an executable file), else ``gemini`` on ``PATH``."""
    return resolve_cli_binary(
        environ, var=BINARY_VAR, command="gemini", npm_package="@google/gemini-cli"
    )


def approval_args(mode: str | None) -> tuple[list[str], str | None]:
    """``permission_mode`` -> gemini flags, plus a warning for a mode gemini does not know.

    No mode means ``--yolo``: a headless run cannot ask anyone, so without it every tool that
    needs approval would be refused. An unknown mode falls back to ``default`` (the safest).
    """
    if mode is None or mode == "yolo":
        return ["--yolo"], None
    mode = _MODE_ALIASES.get(mode, mode)
    if mode == "yolo":
        return ["--yolo"], None
    if mode in APPROVAL_MODES:
        return ["--approval-mode", mode], None
    return (
        ["--approval-mode", "default"],
        f"unknown gemini permission_mode {mode!r} (expected one of "
        f"{', '.join(APPROVAL_MODES)}); running with approval mode 'default'",
    )


def _bad_mcp(message: str) -> RpcError:
    return RpcError.invalid_params(f"mcp_servers: {message}")


def gemini_mcp_servers(value: Any) -> dict[str, dict[str, Any]]:
    """The request's MCP servers as gemini's ``mcpServers`` settings map.

    Accepts ``{name: spec}``, ``{"mcpServers": {...}}`` or ``[{name, ...}]``; a spec is
    ``{command, args?, env?, cwd?}`` (stdio) or ``{url, type|transport?, headers?}``;
    ``http`` / ``streamable-http`` urls become ``httpUrl``, ``sse`` stays ``url``.
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
        entry: dict[str, Any] = {}
        command, url = spec.get("command"), spec.get("url") or spec.get("httpUrl")
        if isinstance(command, str) and command:
            entry["command"] = command
            args = spec.get("args", [])
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise _bad_mcp(f"server {name!r}: 'args' must be a list of strings")
            entry["args"] = args
            env = spec.get("env", {})
            if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
                raise _bad_mcp(f"server {name!r}: 'env' must map names to strings")
            if env:
                entry["env"] = env
            if isinstance(spec.get("cwd"), str):
                entry["cwd"] = spec["cwd"]
        elif isinstance(url, str) and url:
            transport = str(spec.get("type") or spec.get("transport") or "http").lower()
            key = "url" if transport == "sse" else "httpUrl"
            entry[key] = url
            if isinstance(spec.get("headers"), dict):
                entry["headers"] = spec["headers"]
        else:
            raise _bad_mcp(f"server {name!r} needs a 'command' (stdio) or a 'url' (http/sse)")
        for key in ("timeout", "trust", "includeTools", "excludeTools"):
            if key in spec:
                entry[key] = spec[key]
        servers[name] = entry
    return servers


def insecure_ancestor(path: Path) -> Path | None:
    """The first of ``path`` and its ancestors that group or others may write, if any.

    The Gemini CLI ignores a system settings file under such a directory (even ``/tmp`` with
    its sticky bit), so the plugin checks before it writes one.
    """
    for candidate in (path, *path.parents):
        try:
            mode = candidate.stat().st_mode
        except FileNotFoundError:
            continue
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            return candidate
    return None


def _settings_dir(environ: Mapping[str, str]) -> Path:
    configured = environ.get(SETTINGS_DIR_VAR)
    home = environ.get("HOME") or str(Path.home())
    base = Path(configured) if configured else Path(home) / ".animus" / "gemini-settings"
    base = base.expanduser()
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    bad = insecure_ancestor(base.resolve())
    if bad is not None:
        raise RpcError.internal(
            f"cannot pass settings to gemini: it ignores settings files under {bad}, which "
            f"group or others may write; set {SETTINGS_DIR_VAR} to a private directory "
            "(no group/other write permission on it or any parent)",
            category="session_start_failed",
        )
    return base


def _user_auth_type(environ: Mapping[str, str]) -> str | None:
    home = environ.get("HOME") or str(Path.home())
    path = Path(home) / ".gemini" / "settings.json"
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    security = settings.get("security") if isinstance(settings, dict) else None
    auth = security.get("auth") if isinstance(security, dict) else None
    selected = auth.get("selectedType") if isinstance(auth, dict) else None
    if isinstance(selected, str):
        return selected
    legacy = settings.get("selectedAuthType") if isinstance(settings, dict) else None
    return legacy if isinstance(legacy, str) else None


def _write_system_settings(
    settings: dict[str, Any], environ: Mapping[str, str], env: Mapping[str, str]
) -> Path:
    """Merge into the operator's own system settings (if any) and write a private copy."""
    merged: dict[str, Any] = {}
    existing = env.get(SYSTEM_SETTINGS_VAR)
    if existing:
        try:
            loaded = json.loads(Path(existing).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RpcError.internal(
                f"{SYSTEM_SETTINGS_VAR}={existing} cannot be read as JSON: {exc}",
                category="session_start_failed",
            ) from None
        if isinstance(loaded, dict):
            merged = loaded
    servers = dict(merged.get("mcpServers") or {})
    servers.update(settings.get("mcpServers") or {})
    if servers:
        merged["mcpServers"] = servers
    if "security" in settings:
        security = dict(merged.get("security") or {})
        security["auth"] = {**dict(security.get("auth") or {}), **settings["security"]["auth"]}
        merged["security"] = security
    fd, name = tempfile.mkstemp(
        prefix="system-settings-", suffix=".json", dir=_settings_dir(environ)
    )
    try:
        os.fchmod(fd, 0o600)  # MCP entries can carry tokens (env, headers)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(merged, fh)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def build_launch(
    request: AgentRunRequest,
    *,
    resume: bool,
    environ: Mapping[str, str],
    declared_env: frozenset[str] = frozenset(),
) -> GeminiLaunch:
    """Validate the request and build the launch; raises `RpcError` naming any problem."""
    if not Path(request.cwd).is_dir():
        raise RpcError.invalid_params(f"cwd {request.cwd!r} is not an existing directory")
    env = dict(environ)
    allowed = (set(REQUEST_ENV_ALLOWLIST) | declared_env) - _PLUGIN_ONLY_ENV
    warnings: list[str] = []
    ignored = sorted(key for key in request.env if key not in allowed)
    env.update({k: v for k, v in request.env.items() if k in allowed})
    for key in _PLUGIN_ONLY_ENV:
        env.pop(key, None)
    if ignored:
        warnings.append(
            "request env not forwarded to gemini (not allowlisted): " + ", ".join(ignored)
        )
    # The workspace is the run's cwd, chosen by the host: trust it (headless runs cannot
    # answer gemini's trust prompt, and an untrusted folder disables tools and settings).
    env["GEMINI_CLI_TRUST_WORKSPACE"] = "true"

    argv = ["gemini"]
    if resume:
        assert request.session_id is not None
        session_id = request.session_id
        argv += ["--resume", session_id]
    else:
        # Gemini takes the id we give it (--session-id needs a UUID), so the control id and
        # the CLI's resume id are the same whenever the caller's id is a UUID.
        session_id = request.session_id or str(uuid.uuid4())
        if _is_uuid(session_id):
            argv += ["--session-id", session_id]
    flags, warning = approval_args(request.permission_mode)
    argv += flags
    if warning:
        warnings.append(warning)
    if request.model:
        argv += ["--model", request.model]
    argv += ["--output-format", "stream-json"]
    servers = gemini_mcp_servers(request.mcp_servers)

    auth_type = request.extras.get("gemini_auth_type")
    if auth_type is not None and not isinstance(auth_type, str):
        raise RpcError.invalid_params("gemini_auth_type must be a string (e.g. gemini-api-key)")
    has_key = any(env.get(name) for name in KEY_VARS)
    user_auth = _user_auth_type(env)
    if auth_type is None and user_auth is None:
        if has_key:
            auth_type = "gemini-api-key"
        elif not any(env.get(name) for name in _VERTEX_VARS):
            raise RpcError.internal(
                "gemini has no credentials: set GEMINI_API_KEY (or GOOGLE_API_KEY) in the "
                "plugin environment or the request env, or log in once with `gemini` so "
                "~/.gemini/settings.json names an auth type",
                category="session_start_failed",
            )

    # The request is valid; now the things that touch the system.
    argv[0] = resolve_binary(environ)
    launch = GeminiLaunch(argv, env, session_id, warnings=warnings)
    settings: dict[str, Any] = {}
    if servers:
        settings["mcpServers"] = servers
    if auth_type is not None:
        settings["security"] = {"auth": {"selectedType": auth_type}}
    if settings:
        path = _write_system_settings(settings, environ, env)
        launch.temp_files.append(path)
        env[SYSTEM_SETTINGS_VAR] = str(path)
    prompt = request.prompt
    if request.system_prompt:
        prompt = f"{request.system_prompt}\n\n{prompt}"
    # A prompt that starts with "-" would be read as an option after a bare -p.
    argv += [f"--prompt={prompt}"] if prompt.startswith("-") else ["-p", prompt]
    return launch
