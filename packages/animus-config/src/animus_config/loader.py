"""Load the project's workflow YAML: read, interpolate, parse, merge, validate.

``load_workflow_config(project_root)`` reads ``.animus/workflows.yaml`` then
``.animus/workflows/*.yaml`` (sorted by name). When neither exists it loads the embedded
default configuration (the same file ``bootstrap_project`` writes), so Animus runs on
defaults. Any error raises :class:`ConfigError` listing every problem with file:line:column.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from animus_config._diagnostics import (
    ConfigDiagnostic,
    ConfigError,
    FieldPath,
    SourceLocation,
    SourceMap,
)
from animus_config._merge import FileData, merge_files, normalise_file
from animus_config._partial import best_effort_config
from animus_config._pydantic_errors import diagnostics_from_validation_error
from animus_config._schema_agents import SYSTEM_PROMPT_FILE_MAX_BYTES
from animus_config._yamlsource import parse_yaml
from animus_config.interpolate import interpolate_text
from animus_config.schema import WorkflowConfig
from animus_config.validate import validate_references

__all__ = [
    "EMBEDDED_DEFAULTS_NAME",
    "LoadedConfig",
    "config_fingerprint",
    "embedded_default_yaml",
    "load_workflow_config",
    "load_workflow_files",
    "project_workflow_files",
]

EMBEDDED_DEFAULTS_NAME = "<embedded>/workflows.yaml"


def embedded_default_yaml() -> str:
    """The default ``workflows.yaml`` shipped with this package."""
    return (resources.files("animus_config") / "defaults" / "workflows.yaml").read_text("utf-8")


@dataclass
class LoadedConfig:
    """A validated configuration and where each of its fields came from."""

    config: WorkflowConfig
    sources: list[Path]
    warnings: list[ConfigDiagnostic] = field(default_factory=list)
    source_map: SourceMap = field(default_factory=SourceMap)
    project_root: Path | None = None
    embedded: bool = False

    def location(self, path: FieldPath) -> SourceLocation | None:
        """Where the field at ``path`` (e.g. ``("workflows", 0, "phases", 1)``) was written."""
        return self.source_map.key_location(path)


def project_workflow_files(project_root: str | os.PathLike[str]) -> list[Path]:
    """The project's YAML files in merge order (existing files only)."""
    animus_dir = Path(project_root) / ".animus"
    files: list[Path] = []
    main = animus_dir / "workflows.yaml"
    if main.is_file():
        files.append(main)
    extra_dir = animus_dir / "workflows"
    if extra_dir.is_dir():
        files.extend(
            sorted(p for p in extra_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        )
    return files


@dataclass
class _Findings:
    errors: list[ConfigDiagnostic] = field(default_factory=list)
    warnings: list[ConfigDiagnostic] = field(default_factory=list)
    secret_refs: list[tuple[str, SourceLocation]] = field(default_factory=list)


def _read_one(label: str, text: str, env: Mapping[str, str], found: _Findings) -> FileData | None:
    interp = interpolate_text(text, label, env)
    errors = found.errors
    errors.extend(interp.errors)
    found.warnings.extend(interp.warnings)
    found.secret_refs.extend(interp.secret_refs)
    data, smap, parse_errors = parse_yaml(interp.text, interp.positions)
    errors.extend(parse_errors)
    if parse_errors or interp.errors:
        return None
    if data is None:
        return FileData({}, smap)
    if not isinstance(data, dict):
        errors.append(
            ConfigDiagnostic.at(
                "error",
                f"the document must be a mapping of sections, got {type(data).__name__}",
                smap.values.get(()),
            )
        )
        return None
    normalise_file(data, smap)
    return FileData(data, smap)


def _resolve_prompt_files(
    config: WorkflowConfig, smap: SourceMap, errors: list[ConfigDiagnostic]
) -> None:
    for agent_id, agent in list(config.agents.items()):
        if agent.system_prompt_file is None:
            continue
        path: FieldPath = ("agents", agent_id, "system_prompt_file")
        loc = smap.value_location(path)
        base = Path(loc.file).parent if loc and not loc.file.startswith("<") else Path.cwd()
        target = (base / agent.system_prompt_file).resolve()
        problem = None
        text = ""
        try:
            size = target.stat().st_size
            if size > SYSTEM_PROMPT_FILE_MAX_BYTES:
                problem = f"{target} is {size} bytes; the limit is 1 MiB"
            else:
                text = target.read_bytes().decode("utf-8")
        except FileNotFoundError:
            problem = f"file not found: {target}"
        except UnicodeDecodeError:
            problem = f"{target} is not UTF-8 text"
        except OSError as exc:
            problem = f"cannot read {target}: {exc.strerror}"
        if problem:
            errors.append(ConfigDiagnostic.at("error", problem, loc, path))
            continue
        config.agents[agent_id] = agent.model_copy(
            update={"system_prompt": text, "system_prompt_file": str(target)}
        )


def load_workflow_files(
    documents: list[tuple[str, str]],
    *,
    env: Mapping[str, str] | None = None,
    sources: list[Path] | None = None,
) -> LoadedConfig:
    """Load already-read documents ``(label, text)`` in merge order."""
    env = os.environ if env is None else env
    found = _Findings()
    errors, warnings, secret_refs = found.errors, found.warnings, found.secret_refs
    files: list[FileData] = []
    for label, text in documents:
        one = _read_one(label, text, env, found)
        if one is not None:
            files.append(one)
    if errors:
        raise ConfigError(errors + warnings)
    merged = merge_files(files)
    warnings.extend(merged.warnings)
    if merged.errors:
        raise ConfigError(merged.errors + warnings)
    try:
        config = WorkflowConfig.model_validate(merged.data)
    except ValidationError as exc:
        errors = diagnostics_from_validation_error(exc, merged.smap, root=WorkflowConfig)
        # Still report reference errors in the entries that are valid on their own.
        partial = best_effort_config(merged.data)
        if partial is not None:
            more, _ = validate_references(partial[0], merged.smap, partial[1])
            errors += more
        raise ConfigError(errors + warnings) from None
    ref_errors, ref_warnings = validate_references(config, merged.smap)
    warnings.extend(ref_warnings)
    _resolve_prompt_files(config, merged.smap, ref_errors)
    declared = sorted(config.secrets)
    for name, where in secret_refs:
        if name not in config.secrets:
            ref_errors.append(
                ConfigDiagnostic.at(
                    "error",
                    f"unknown secret '{name}' (declared under 'secrets:': "
                    f"{', '.join(declared) or 'none'})",
                    where,
                )
            )
    if ref_errors:
        raise ConfigError(ref_errors + warnings)
    return LoadedConfig(
        config=config,
        sources=list(sources or []),
        warnings=warnings,
        source_map=merged.smap,
    )


def load_workflow_config(
    project_root: str | os.PathLike[str], *, env: Mapping[str, str] | None = None
) -> LoadedConfig:
    """Load, merge and validate the project's workflow YAML (or the embedded defaults)."""
    root = Path(project_root)
    paths = project_workflow_files(root)
    if not paths:
        loaded = load_workflow_files([(EMBEDDED_DEFAULTS_NAME, embedded_default_yaml())], env=env)
        loaded.embedded = True
        loaded.project_root = root
        return loaded
    documents: list[tuple[str, str]] = []
    read_errors: list[ConfigDiagnostic] = []
    for path in paths:
        try:
            documents.append((str(path), path.read_bytes().decode("utf-8")))
        except UnicodeDecodeError as exc:
            read_errors.append(
                ConfigDiagnostic(
                    "error", f"not UTF-8 text (byte {exc.start})", str(path), None, None
                )
            )
        except OSError as exc:
            read_errors.append(
                ConfigDiagnostic("error", f"cannot read: {exc.strerror}", str(path), None, None)
            )
    if read_errors:
        raise ConfigError(read_errors)
    loaded = load_workflow_files(documents, env=env, sources=paths)
    loaded.project_root = root
    return loaded


def config_fingerprint(project_root: str | os.PathLike[str]) -> str:
    """A digest of the project's YAML file names and contents (the embedded default when none).

    Equal fingerprints mean loading would give the same result for the same environment, so
    a watcher can skip recompiling; it changes when a file is added, removed or edited.
    """
    digest = hashlib.sha256()
    paths = project_workflow_files(project_root)
    if not paths:
        digest.update(EMBEDDED_DEFAULTS_NAME.encode() + b"\0" + embedded_default_yaml().encode())
    for path in paths:
        try:
            content = path.read_bytes()
        except OSError:
            content = b"\0unreadable"
        digest.update(path.name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()
