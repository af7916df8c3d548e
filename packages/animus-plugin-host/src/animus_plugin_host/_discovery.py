"""Finding plugins and learning what they are.

Candidates come from these tiers, in precedence order (the first plugin with a given name
wins; later ones are reported as ``shadowed``):

1. the project registry ``<project>/.animus/plugins.yaml``
2. the project directory ``<project>/.animus/plugins/``
3. the global registry ``$ANIMUS_HOME/plugins.yaml``
4. the global directory ``$ANIMUS_PLUGIN_DIR`` or ``$ANIMUS_HOME/plugins/``
5. each directory of ``$ANIMUS_PLUGIN_PATH`` (colon separated)
6. installed distributions: entry points in the ``animus.plugins`` group, so ``uv sync``
   makes bundled plugins available with no extra step
7. ``$PATH``, only with ``include_system_path=True``

Directory scans consider executable files named ``animus-*``. Every candidate is probed
with ``--manifest`` (cached by sha256); a candidate that fails becomes a
:class:`DiscoveryWarning`, never an exception, and still reserves its name so a broken
higher-precedence plugin is not silently replaced by a lower one.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

from animus_plugin_host._errors import PluginNotFoundError
from animus_plugin_host._probe import (
    PROBE_TIMEOUT,
    ManifestProbeError,
    file_sha256,
    probe_manifest,
)
from animus_plugin_host._registry import read_registry
from animus_plugin_protocol import PluginManifest
from animus_protocol.paths import GlobalPaths, ProjectPaths

__all__ = [
    "ENTRY_POINT_GROUP",
    "DiscoveredPlugin",
    "DiscoveryResult",
    "DiscoveryWarning",
    "ShadowedPlugin",
    "discover",
    "global_plugins_dir",
]

ENTRY_POINT_GROUP = "animus.plugins"


@dataclass(frozen=True)
class DiscoveredPlugin:
    """A plugin whose manifest probe succeeded."""

    name: str
    manifest: PluginManifest
    command: tuple[str, ...]
    executable: Path
    source: str
    sha256: str

    @property
    def kinds(self) -> tuple[str, ...]:
        return (self.manifest.plugin_kind, *self.manifest.plugin_kinds)

    def serves_kind(self, kind: str) -> bool:
        return self.manifest.serves_kind(kind)

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def env_required(self) -> tuple[str, ...]:
        return tuple(req.name for req in self.manifest.env_required)


@dataclass(frozen=True)
class DiscoveryWarning:
    """A candidate that could not be used, and why."""

    source: str
    candidate: str
    message: str

    def __str__(self) -> str:
        return f"{self.candidate} ({self.source}): {self.message}"


@dataclass(frozen=True)
class ShadowedPlugin:
    """A lower-precedence candidate hidden by an earlier one with the same name."""

    name: str
    winner_source: str
    winner: str
    shadowed_source: str
    shadowed: str


@dataclass
class DiscoveryResult:
    plugins: dict[str, DiscoveredPlugin] = field(default_factory=dict)
    warnings: list[DiscoveryWarning] = field(default_factory=list)
    shadowed: list[ShadowedPlugin] = field(default_factory=list)

    def get(self, name: str) -> DiscoveredPlugin:
        plugin = self.plugins.get(name)
        if plugin is None:
            known = ", ".join(sorted(self.plugins)) or "none"
            raise PluginNotFoundError(
                f"no plugin named {name!r} was discovered (known: {known})",
                details={"plugin": name},
                hint=f"install it with `animus plugin install --path <executable>` or "
                f"`animus plugin install {name}`",
            )
        return plugin

    def by_kind(self, kind: str) -> list[DiscoveredPlugin]:
        return [p for p in self.plugins.values() if p.serves_kind(kind)]


@dataclass(frozen=True)
class _Candidate:
    source: str
    label: str
    command: tuple[str, ...]
    executable: Path
    name_hint: str
    name_override: str | None = None
    cache_salt: str = ""


def global_plugins_dir(env: Mapping[str, str]) -> Path:
    override = env.get("ANIMUS_PLUGIN_DIR")
    if override:
        return Path(override).expanduser()
    return GlobalPaths.from_env(env).plugins_dir


def _is_executable_file(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _scan_dir(directory: Path, source: str) -> Iterable[_Candidate]:
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return
    for path in entries:
        if not path.name.startswith("animus-") or not _is_executable_file(path):
            continue
        yield _Candidate(source, str(path), (str(path),), path.resolve(), path.name)


def _registry_candidates(
    path: Path, source: str, path_env: str | None, warnings: list[DiscoveryWarning]
) -> Iterable[_Candidate]:
    entries, problems = read_registry(path, path_env)
    warnings.extend(DiscoveryWarning(source, str(path), p) for p in problems)
    for entry in entries:
        if entry.resolved is None or not _is_executable_file(entry.resolved):
            warnings.append(
                DiscoveryWarning(
                    source,
                    entry.binary,
                    f"registry entry {entry.key!r} names a binary that is missing or not "
                    "executable",
                )
            )
            continue
        yield _Candidate(
            source,
            entry.binary,
            (str(entry.resolved),),
            entry.resolved.resolve(),
            entry.name_override or entry.key,
            entry.name_override,
        )


def _entry_point_candidates(warnings: list[DiscoveryWarning]) -> Iterable[_Candidate]:
    scripts = Path(sys.executable).parent
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist
        salt = f"{dist.name}=={dist.version}" if dist is not None else ep.value
        value = ep.value.strip()
        script = scripts / value
        if "/" not in value and _is_executable_file(script):
            yield _Candidate("installed", value, (str(script),), script, ep.name, cache_salt=salt)
            continue
        module = value.split(":", 1)[0]
        spec = find_spec(module) if module.replace(".", "").replace("_", "").isalnum() else None
        if spec is None or spec.origin is None:
            warnings.append(
                DiscoveryWarning(
                    "installed",
                    f"{ep.name} = {value}",
                    "entry point names neither a console script nor an importable module",
                )
            )
            continue
        yield _Candidate(
            "installed",
            f"{sys.executable} -m {module}",
            (sys.executable, "-m", module),
            Path(spec.origin),
            ep.name,
            cache_salt=salt,
        )


def _candidates(
    project_root: Path | None,
    env: Mapping[str, str],
    include_system_path: bool,
    warnings: list[DiscoveryWarning],
) -> list[_Candidate]:
    path_env = env.get("PATH")
    found: list[_Candidate] = []
    if project_root is not None:
        project = ProjectPaths(project_root)
        found += _registry_candidates(
            project.plugins_registry, "project_registry", path_env, warnings
        )
        found += _scan_dir(project.plugins_dir, "project_dir")
    global_paths = GlobalPaths.from_env(env)
    found += _registry_candidates(
        global_paths.plugins_registry, "global_registry", path_env, warnings
    )
    found += _scan_dir(global_plugins_dir(env), "global_dir")
    for entry in env.get("ANIMUS_PLUGIN_PATH", "").split(os.pathsep):
        if entry:
            found += _scan_dir(Path(entry).expanduser(), "plugin_path")
    found += _entry_point_candidates(warnings)
    if include_system_path and path_env:
        for entry in path_env.split(os.pathsep):
            if entry:
                found += _scan_dir(Path(entry), "system_path")
    return found


def _probe(
    candidate: _Candidate, cache_dir: Path, env: Mapping[str, str], timeout: float
) -> tuple[str, PluginManifest] | str:
    try:
        sha = file_sha256(candidate.executable)
    except OSError as exc:
        return f"cannot read the executable: {exc}"
    key = sha
    if candidate.cache_salt:
        key = file_sha256_text(f"{sha}:{candidate.cache_salt}")
    try:
        manifest = probe_manifest(
            candidate.command, cache_dir=cache_dir, cache_key=key, env=env, timeout=timeout
        )
    except ManifestProbeError as exc:
        return f"manifest probe failed: {exc}"
    return sha, manifest


def file_sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def discover(
    project_root: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    include_system_path: bool = False,
    probe_timeout: float = PROBE_TIMEOUT,
) -> DiscoveryResult:
    """Every plugin reachable from ``project_root`` (and globally), with its manifest."""
    env = dict(os.environ if env is None else env)
    root = Path(project_root).resolve() if project_root is not None else None
    result = DiscoveryResult()
    candidates = _candidates(root, env, include_system_path, result.warnings)
    cache_dir = GlobalPaths.from_env(env).manifest_cache_dir
    workers = max(1, min(8, os.cpu_count() or 1, len(candidates)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda c: _probe(c, cache_dir, env, probe_timeout), candidates))
    reserved: dict[str, _Candidate] = {}
    for candidate, outcome in zip(candidates, outcomes, strict=True):
        if isinstance(outcome, str):
            result.warnings.append(DiscoveryWarning(candidate.source, candidate.label, outcome))
            reserved.setdefault(candidate.name_hint, candidate)
            continue
        sha, manifest = outcome
        name = candidate.name_override or manifest.name
        winner = reserved.get(name)
        if winner is not None:
            result.shadowed.append(
                ShadowedPlugin(name, winner.source, winner.label, candidate.source, candidate.label)
            )
            continue
        reserved[name] = candidate
        result.plugins[name] = DiscoveredPlugin(
            name=name,
            manifest=manifest,
            command=candidate.command,
            executable=candidate.executable,
            source=candidate.source,
            sha256=sha,
        )
    return result
