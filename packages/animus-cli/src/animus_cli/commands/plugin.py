"""``animus plugin``: list, info, ping, call, install, uninstall, lock, doctor."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click

from animus_cli.commands._plugin_support import (
    as_cli_error,
    discover_plugins,
    find_plugin,
    install_scope,
    lock_entries,
    parse_json_params,
    plugin_row,
    run_coroutine,
)
from animus_cli.context import get_context
from animus_cli.output import emit, print_kv, print_table
from animus_protocol.envelope import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)

__all__ = ["command"]

_CALL_TIMEOUT = 30.0
_REQUIREMENT = re.compile(r"^animus-[A-Za-z0-9._-]+(\[[A-Za-z0-9,._-]+\])?([<>=!~]=?[^/\s]+)?$")


def _say(text: str = "") -> None:
    click.echo(text)


def _name_of(positional: str | None, option: str | None, what: str = "NAME") -> str:
    if positional and option and positional != option:
        raise InvalidInputError(
            f"two different plugin names given: {positional!r} and --name {option!r}",
            hint="give the name once",
        )
    name = positional or option
    if not name:
        raise InvalidInputError(f"missing the plugin {what}", hint="see `animus plugin list`")
    return name


def _check_required_env(plugin: Any) -> None:
    from animus_plugin_host import missing_required_env

    required = [r.name for r in plugin.manifest.env_required if r.required]
    missing = missing_required_env(required, os.environ)
    if missing:
        raise InvalidInputError(
            f"{plugin.name} requires {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} unset",
            details={"plugin": plugin.name, "missing_env": missing},
            hint=" ; ".join(f"export {name}=<value>" for name in missing),
        )


@click.group(name="plugin")
def command() -> None:
    """Plugins: list, info, ping, call, install, uninstall, lock verify, doctor."""


# -- list / info -------------------------------------------------------------------------------


@command.command(name="list")
@click.option("--include-system-path", is_flag=True, help="Also scan $PATH for animus-* plugins.")
@click.option("--kind", "kind", default=None, help="Only plugins serving this kind.")
@click.option("--verbose", "-v", is_flag=True, help="Show description, sha256 and command.")
def list_plugins(include_system_path: bool, kind: str | None, verbose: bool) -> None:
    """Discovered plugins with their source tier; discovery warnings and shadowed entries."""
    ctx = get_context()
    found = discover_plugins(ctx.project_root, include_system_path=include_system_path)
    plugins = [p for p in found.plugins.values() if kind is None or p.serves_kind(kind)]
    data = {
        "plugins": [plugin_row(p) for p in sorted(plugins, key=lambda p: p.name)],
        "warnings": [
            {"source": w.source, "candidate": w.candidate, "message": w.message}
            for w in found.warnings
        ],
        "shadowed": [
            {
                "name": s.name,
                "winner_source": s.winner_source,
                "winner": s.winner,
                "shadowed_source": s.shadowed_source,
                "shadowed": s.shadowed,
            }
            for s in found.shadowed
        ],
    }

    def human(data: dict[str, Any]) -> None:
        columns = ["name", "version", "kind", "source", "path"]
        if verbose:
            columns += ["sha256", "description"]
        print_table(data["plugins"], columns, empty="no plugins discovered")
        for s in data["shadowed"]:
            _say(
                f"shadowed: {s['name']} from {s['shadowed_source']} ({s['shadowed']}) by "
                f"{s['winner_source']} ({s['winner']})"
            )
        for w in data["warnings"]:
            _say(f"warning: {w['candidate']} ({w['source']}): {w['message']}")

    emit(data, human)


@command.command(name="info")
@click.argument("name", required=False)
@click.option("--name", "name_option", default=None, help="The plugin name (same as NAME).")
def info(name: str | None, name_option: str | None) -> None:
    """Manifest, source tier, executable and lock entry of one plugin."""
    ctx = get_context()
    wanted = _name_of(name, name_option)
    found = discover_plugins(ctx.project_root)
    plugin = find_plugin(found, wanted)
    locks = [
        {"scope": scope, "lockfile": str(path), **entry.to_toml()}
        for scope, path, entry in lock_entries(ctx.project_root)
        if entry.name == plugin.name
    ]
    data = {
        **plugin_row(plugin),
        "manifest": plugin.manifest.model_dump(mode="json", exclude_none=True),
        "lock": locks[0] if locks else None,
        "shadowed": [
            f"{s.shadowed} ({s.shadowed_source})" for s in found.shadowed if s.name == plugin.name
        ],
    }

    def human(data: dict[str, Any]) -> None:
        view = {k: v for k, v in data.items() if k not in ("manifest", "lock", "kinds")}
        view["methods"] = data["capabilities"]
        del view["capabilities"]
        view["lock"] = (
            f"{data['lock']['scope']} {data['lock']['lockfile']} "
            f"(sha256 {data['lock']['artifact_sha256'][:12]}…, installed "
            f"{data['lock']['installed_at']})"
            if data["lock"]
            else "not locked (not installed by `animus plugin install`)"
        )
        view["env_required"] = [e["name"] for e in data["env_required"]]
        print_kv(view)

    emit(data, human)


# -- ping / call -------------------------------------------------------------------------------


async def _with_process(
    ctx_root: Path,
    name: str,
    method: str,
    params: Any,
    deadline: float,
) -> Any:
    from animus_plugin_host import PluginHost

    host = PluginHost(ctx_root)
    plugin = find_plugin(host.discovery(), name)
    _check_required_env(plugin)
    try:
        proc = await host.start(plugin)
    except Exception as exc:
        raise as_cli_error(exc, plugin=name, method="initialize") from exc
    try:
        if method == "$/ping":
            return await proc.ping(timeout=deadline)
        return await proc.call(method, params, timeout=deadline)
    except Exception as exc:
        raise as_cli_error(exc, plugin=name, method=method) from exc
    finally:
        await proc.shutdown()


@command.command(name="ping")
@click.argument("name", required=False)
@click.option("--name", "name_option", default=None, help="The plugin name (same as NAME).")
@click.option("--timeout-secs", type=float, default=5.0, show_default=True)
def ping(name: str | None, name_option: str | None, timeout_secs: float) -> None:
    """Start the plugin, handshake, send $/ping and report the round trip."""
    ctx = get_context()
    wanted = _name_of(name, name_option)
    try:
        seconds = run_coroutine(_with_process(ctx.project_root, wanted, "$/ping", {}, timeout_secs))
    except UnavailableError as exc:
        exc.details.update({"ok": False, "latency_ms": None, "error": exc.message})
        raise
    data = {"plugin": wanted, "ok": True, "latency_ms": round(seconds * 1000, 3)}
    emit(data, lambda d: _say(f"{d['plugin']}: ok, $/ping {d['latency_ms']} ms"))


@command.command(name="call")
@click.argument("name", required=False)
@click.argument("method", required=False)
@click.option("--name", "name_option", default=None, help="The plugin name (same as NAME).")
@click.option("--method", "method_option", default=None, help="The method (same as METHOD).")
@click.option("--params", "params_text", default=None, help="JSON params of the request.")
@click.option("--params-file", default=None, help="Read the JSON params from a file (- = stdin).")
@click.option("--timeout-secs", type=float, default=_CALL_TIMEOUT, show_default=True)
def call(
    *,
    name: str | None,
    method: str | None,
    name_option: str | None,
    method_option: str | None,
    params_text: str | None,
    params_file: str | None,
    timeout_secs: float,
) -> None:
    """Send one JSON-RPC request to a plugin and print its result."""
    ctx = get_context()
    wanted = _name_of(name, name_option)
    rpc_method = _name_of(method, method_option, "METHOD")
    params = parse_json_params(params_text, params_file)
    result = run_coroutine(
        _with_process(
            ctx.project_root, wanted, rpc_method, {} if params is None else params, timeout_secs
        )
    )
    data = {"plugin": wanted, "method": rpc_method, "result": result}

    def human(data: dict[str, Any]) -> None:
        import json

        _say(json.dumps(data["result"], indent=2, ensure_ascii=False))

    emit(data, human)


# -- install / uninstall -----------------------------------------------------------------------


@command.command(name="install")
@click.argument("path", required=False, type=click.Path(path_type=str))
@click.option("--path", "path_option", default=None, help="The plugin executable (same as PATH).")
@click.option("--pip", "requirement", default=None, help="A pip requirement to install.")
@click.option("--global", "global_", is_flag=True, help="Install for every project.")
@click.option("--yes", is_flag=True, help="Replace an installed plugin of the same name.")
def install(
    path: str | None, path_option: str | None, requirement: str | None, global_: bool, yes: bool
) -> None:
    """Install a plugin from an executable PATH or a pip requirement; lock it.

    Project scope (``.animus/plugins/``, ``.animus/plugins.lock``) when the project has
    ``.animus/``, else global (``$ANIMUS_HOME``).
    """
    from animus_plugin_host import InstallError, install_from_path, install_requirement

    ctx = get_context()
    source = path or path_option
    if bool(source) == bool(requirement):
        raise InvalidInputError(
            "give exactly one of PATH and --pip REQUIREMENT",
            hint="animus plugin install ./animus-my-plugin   or   "
            "animus plugin install --pip animus-provider-foo",
        )
    scope = install_scope(ctx.project_root, global_)
    if source is not None and not Path(source).exists():
        if path is not None and _REQUIREMENT.match(source):
            # A bare distribution name (what install hints print) is a pip requirement.
            source, requirement = None, path
        else:
            raise NotFoundError(
                f"no such file: {source}",
                details={"path": source},
                hint="pass a plugin executable, or --pip REQUIREMENT for a distribution",
            )
    try:
        if source is not None:
            installed = install_from_path(
                source, scope=scope, project_root=ctx.project_root, force=yes
            )
        else:
            assert requirement is not None
            installed = install_requirement(requirement, scope=scope, project_root=ctx.project_root)
    except InstallError as exc:
        if "already installed" in exc.message:
            raise ConflictError(
                exc.message, details=exc.details, hint="pass --yes to replace it"
            ) from exc
        raise
    data = {
        "schema": "animus.plugin.install.v1",
        "name": installed.name,
        "version": installed.version,
        "kind": installed.kind,
        "scope": installed.scope,
        "path": str(installed.path),
        "artifact_sha256": installed.sha256,
        "lockfile": str(installed.lockfile),
    }
    emit(
        data,
        lambda d: _say(
            f"installed {d['name']} {d['version']} ({d['kind']}) into {d['path']} "
            f"[{d['scope']}], locked in {d['lockfile']}"
        ),
    )


def _installed_scope(project_root: Path, name: str, global_: bool) -> tuple[str, Path]:
    from animus_plugin_host import global_plugins_dir
    from animus_protocol.paths import ProjectPaths

    entries = lock_entries(project_root)
    candidates: list[tuple[str, Path]] = []
    if not global_:
        candidates.append(("project", ProjectPaths(project_root).plugins_dir / name))
    candidates.append(("global", global_plugins_dir(os.environ) / name))
    for scope, target in candidates:
        locked = any(s == scope and e.name == name for s, _, e in entries)
        if locked or target.exists() or target.is_symlink():
            return scope, target
    raise NotFoundError(
        f"no plugin named {name!r} is installed"
        + (" globally" if global_ else " in this project or globally"),
        details={"plugin": name},
        hint="`animus plugin lock list` shows installed plugins",
    )


@command.command(name="uninstall")
@click.argument("name")
@click.option("--global", "global_", is_flag=True, help="Uninstall the global install.")
@click.option("--yes", is_flag=True, help="Really remove it (default: show what would go).")
def uninstall_plugin(name: str, global_: bool, yes: bool) -> None:
    """Remove an installed plugin and its lock entry (dry run unless --yes)."""
    from animus_plugin_host import uninstall

    ctx = get_context()
    scope, target = _installed_scope(ctx.project_root, name, global_)
    data: dict[str, Any] = {"name": name, "scope": scope, "path": str(target), "dry_run": not yes}
    if yes:
        uninstall(
            name, scope="project" if scope == "project" else "global", project_root=ctx.project_root
        )
    emit(
        data,
        lambda d: _say(
            f"{'would remove' if d['dry_run'] else 'removed'} {d['name']} ({d['scope']}) "
            f"at {d['path']}" + (" — pass --yes to do it" if d["dry_run"] else "")
        ),
    )


# -- lock --------------------------------------------------------------------------------------


@command.group(name="lock")
def lock() -> None:
    """plugins.lock: list entries, verify installed executables."""


@lock.command(name="list")
def lock_list() -> None:
    """Every entry of the project and global plugins.lock."""
    ctx = get_context()
    rows = [
        {"scope": scope, "lockfile": str(path), **entry.to_toml()}
        for scope, path, entry in lock_entries(ctx.project_root)
    ]
    emit(
        {"plugins": rows},
        lambda d: print_table(
            d["plugins"],
            ["name", "version", "scope", "installed_kind", "installed_at", "artifact_sha256"],
            empty="no locked plugins",
        ),
    )


@lock.command(name="verify")
def lock_verify() -> None:
    """Re-hash every locked executable; exit 4 when one is modified or missing."""
    from animus_plugin_host import verify_lock

    ctx = get_context()
    report = verify_lock(ctx.project_root)
    issues = [
        {
            "name": i.name,
            "scope": i.scope,
            "problem": i.problem,
            "path": str(i.path),
            "expected_sha256": i.expected_sha256,
            "actual_sha256": i.actual_sha256,
        }
        for i in report.issues
    ]
    if issues:
        raise ConflictError(
            f"{len(issues)} locked plugin(s) failed verification: "
            + "; ".join(str(i) for i in report.issues),
            details={"ok": report.ok, "issues": issues},
            code="lock_mismatch",
            hint="reinstall each with `animus plugin install <path> --yes`, or uninstall it",
        )
    emit(
        {"ok": report.ok, "issues": []},
        lambda d: _say(f"plugins.lock verified: {len(d['ok'])} plugin(s) match"),
    )


# -- doctor ------------------------------------------------------------------------------------


@command.command(name="doctor")
@click.option("--include-system-path", is_flag=True, help="Also scan $PATH for animus-* plugins.")
def doctor(include_system_path: bool) -> None:
    """Preflight: missing roles and environment variables, with the command fixing each."""
    from animus_plugin_host import preflight

    ctx = get_context()
    found = discover_plugins(ctx.project_root, include_system_path=include_system_path)
    report = preflight(found)
    issues = [{"role": i.role, "problem": i.problem, "fix": i.fix} for i in report.issues]
    missing_roles = [i for i in issues if not i["role"].startswith("env:")]
    data = {
        "ok": report.ok,
        "satisfied": sorted({k for p in found.plugins.values() for k in p.kinds}),
        "missing": issues,
        "warnings": report.warnings,
        "fix_message": "; ".join(i["fix"] for i in issues) or None,
    }

    def human(data: dict[str, Any]) -> None:
        _say(f"roles served: {', '.join(data['satisfied']) or 'none'}")
        for issue in data["missing"]:
            _say(f"missing {issue['role']}: {issue['problem']}")
            _say(f"  fix: {issue['fix']}")
        for warning in data["warnings"]:
            _say(f"warning: {warning}")
        if not data["missing"]:
            _say("preflight ok")

    if missing_roles:
        if not ctx.json_output:
            human(data)
        raise InvalidInputError(
            f"required role(s) missing: {', '.join(i['role'] for i in missing_roles)}",
            details=data,
            code="preflight_failed",
            hint=missing_roles[0]["fix"],
        )
    emit(data, human)
