"""Installing and uninstalling plugins, recorded in ``plugins.lock``.

From a path: the executable is probed (it must answer ``--manifest``), copied into the
project's or the global plugins directory under its manifest name, and locked. From a pip
requirement: a dedicated virtualenv ``<plugins dir>/.venvs/<name>/`` receives the
requirement, and the ``animus-*`` console script it provides is linked into the plugins
directory, then probed and locked the same way.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from animus_plugin_host._errors import InstallError, PluginNotFoundError
from animus_plugin_host._lockfile import LockEntry, Scope, lock_roots, read_lock, write_lock
from animus_plugin_host._probe import ManifestProbeError, file_sha256, probe_manifest
from animus_plugin_protocol import PluginManifest

__all__ = ["InstalledPlugin", "install_from_path", "install_requirement", "uninstall"]

_NAME = re.compile(r"^animus-[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class InstalledPlugin:
    name: str
    version: str
    kind: str
    path: Path
    sha256: str
    scope: Scope
    lockfile: Path
    manifest: PluginManifest


def _roots(
    scope: Scope, project_root: Path | str | None, env: Mapping[str, str]
) -> tuple[Path, Path]:
    if scope == "project" and project_root is None:
        raise InstallError("a project install needs a project root", hint="pass --project-root")
    root = Path(project_root).resolve() if project_root is not None else None
    for found_scope, lock_path, plugins_dir in lock_roots(root, env):
        if found_scope == scope:
            return lock_path, plugins_dir
    raise InstallError(f"unknown install scope {scope!r}")  # pragma: no cover - Literal


def _probe(path: Path, env: Mapping[str, str]) -> PluginManifest:
    try:
        return probe_manifest([str(path)], env=env)
    except ManifestProbeError as exc:
        raise InstallError(
            f"{path} is not an Animus plugin: {exc}",
            details={"path": str(path)},
            hint="a plugin must print its manifest for `<executable> --manifest`",
        ) from exc


def _check_name(manifest: PluginManifest, source: str) -> None:
    if not _NAME.match(manifest.name):
        raise InstallError(
            f"{source} declares the name {manifest.name!r}; installed plugins must be named "
            "animus-<something> so discovery finds them",
            details={"name": manifest.name},
        )


def _record(
    lock_path: Path, manifest: PluginManifest, sha: str, target: Path, scope: Scope
) -> InstalledPlugin:
    entries = [e for e in read_lock(lock_path) if e.name != manifest.name]
    entries.append(
        LockEntry(
            name=manifest.name,
            version=manifest.version,
            artifact_sha256=sha,
            installed_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            installed_kind=manifest.plugin_kind,
        )
    )
    write_lock(lock_path, entries)
    return InstalledPlugin(
        manifest.name,
        manifest.version,
        manifest.plugin_kind,
        target,
        sha,
        scope,
        lock_path,
        manifest,
    )


def install_from_path(
    source: Path | str,
    *,
    scope: Scope = "project",
    project_root: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    force: bool = False,
) -> InstalledPlugin:
    """Copy an executable plugin into the plugins directory and lock it."""
    env = os.environ if env is None else env
    src = Path(source).expanduser().resolve()
    if not src.is_file() or not os.access(src, os.X_OK):
        raise InstallError(
            f"{src} is not an executable file",
            details={"path": str(src)},
            hint="chmod +x it, or pass the plugin's executable rather than its directory",
        )
    lock_path, plugins_dir = _roots(scope, project_root, env)
    read_lock(lock_path)  # fail closed on an unreadable lockfile before touching anything
    manifest = _probe(src, env)
    _check_name(manifest, str(src))
    target = plugins_dir / manifest.name
    if target.exists() and not force and file_sha256(target) != file_sha256(src):
        raise InstallError(
            f"{manifest.name} is already installed at {target} with different contents",
            details={"path": str(target)},
            hint="pass force=True (--force) to replace it",
        )
    plugins_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.installing")
    shutil.copyfile(src, tmp)
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRUSR)
    if target.is_symlink() or target.is_dir():
        _remove(target)
    os.replace(tmp, target)
    return _record(lock_path, manifest, file_sha256(target), target, scope)


def _installer(venv: Path) -> list[str]:
    uv = shutil.which("uv")
    python = venv / "bin" / "python"
    if uv:
        return [uv, "pip", "install", "--quiet", "--python", str(python)]
    return [str(python), "-m", "pip", "install", "--quiet"]


def install_requirement(
    requirement: str,
    *,
    scope: Scope = "global",
    project_root: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    pip_args: tuple[str, ...] = (),
    timeout: float = 600.0,
) -> InstalledPlugin:
    """pip-install ``requirement`` into a dedicated venv and link its ``animus-*`` script."""
    env = os.environ if env is None else env
    lock_path, plugins_dir = _roots(scope, project_root, env)
    read_lock(lock_path)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(requirement).name or requirement)[:80]
    venv = plugins_dir / ".venvs" / slug
    bin_dir = venv / "bin"
    before = set(bin_dir.glob("animus-*")) if bin_dir.is_dir() else set()
    try:
        if not (bin_dir / "python").exists():
            uv = shutil.which("uv")
            create = (
                [uv, "venv", "--quiet", "--python", sys.executable, str(venv)]
                if uv
                else [sys.executable, "-m", "venv", str(venv)]
            )
            subprocess.run(create, check=True, capture_output=True, timeout=timeout)
        subprocess.run(
            [*_installer(venv), *pip_args, requirement],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.CalledProcessError as exc:
        stderr = (exc.stderr or b"").decode("utf-8", "replace").strip()[-800:]
        raise InstallError(
            f"installing {requirement!r} failed: {stderr or exc}",
            details={"requirement": requirement},
        ) from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"installing {requirement!r} failed: {exc}") from exc
    scripts = sorted(set(bin_dir.glob("animus-*")) - before) or sorted(bin_dir.glob("animus-*"))
    if not scripts:
        raise InstallError(
            f"{requirement!r} installed no animus-* console script",
            details={"requirement": requirement, "venv": str(venv)},
            hint="a plugin distribution must declare a console script named animus-<name>",
        )
    script = scripts[0]
    manifest = _probe(script, env)
    _check_name(manifest, requirement)
    target = plugins_dir / manifest.name
    if target.exists() or target.is_symlink():
        _remove(target)
    target.symlink_to(script)
    return _record(lock_path, manifest, file_sha256(target), target, scope)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def uninstall(
    name: str,
    *,
    scope: Scope = "project",
    project_root: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Remove an installed plugin (file, link, and its venv) and its lock entry."""
    env = os.environ if env is None else env
    lock_path, plugins_dir = _roots(scope, project_root, env)
    entries = read_lock(lock_path)
    target = plugins_dir / name
    locked = any(e.name == name for e in entries)
    if not locked and not (target.exists() or target.is_symlink()):
        raise PluginNotFoundError(
            f"no plugin named {name!r} is installed in the {scope} plugins directory "
            f"({plugins_dir})",
            details={"plugin": name, "scope": scope},
        )
    if target.is_symlink():
        venv_root = plugins_dir / ".venvs"
        link = Path(os.readlink(target))
        if venv_root in link.parents:
            shutil.rmtree(link.parent.parent, ignore_errors=True)
    if target.exists() or target.is_symlink():
        _remove(target)
    if locked:
        write_lock(lock_path, [e for e in entries if e.name != name])
    return target
