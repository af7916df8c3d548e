"""``plugins.yaml`` registries: explicit name -> binary entries, project and global.

Shape: top-level ``plugins:`` and ``providers:`` maps whose values are either a binary
string or ``{binary, name?, name_override?, skip_manifest_check_at_install?}``. ``binary``
may start with ``~``, be relative to the registry file, or be a bare command on ``PATH``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["RegistryEntry", "read_registry"]


@dataclass(frozen=True)
class RegistryEntry:
    key: str
    binary: str
    resolved: Path | None
    name_override: str | None


def _resolve_binary(binary: str, base: Path, path_env: str | None) -> Path | None:
    expanded = Path(binary).expanduser()
    if "/" in binary or binary.startswith("~"):
        candidate = expanded if expanded.is_absolute() else base / expanded
        return candidate if candidate.exists() else None
    found = shutil.which(binary, path=path_env)
    return Path(found) if found else None


def read_registry(path: Path, path_env: str | None) -> tuple[list[RegistryEntry], list[str]]:
    """Entries and problems (each problem one sentence); a missing file has neither."""
    if not path.is_file():
        return [], []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return [], [f"{path}: cannot read the registry: {exc}"]
    if data is None:
        return [], []
    if not isinstance(data, dict):
        return [], [f"{path}: expected a mapping with 'plugins:' / 'providers:'"]
    entries: list[RegistryEntry] = []
    problems: list[str] = []
    for section in ("plugins", "providers"):
        block = data.get(section)
        if block is None:
            continue
        if not isinstance(block, dict):
            problems.append(f"{path}: '{section}:' must be a mapping of name to entry")
            continue
        for key, raw in block.items():
            value = {"binary": raw} if isinstance(raw, str) else raw
            if not isinstance(value, dict) or not isinstance(value.get("binary"), str):
                problems.append(f"{path}: {section}.{key}: an entry needs a 'binary' string")
                continue
            override = value.get("name_override") or value.get("name")
            binary = value["binary"]
            entries.append(
                RegistryEntry(
                    key=str(key),
                    binary=binary,
                    resolved=_resolve_binary(binary, path.parent, path_env),
                    name_override=str(override) if override else None,
                )
            )
    return entries, problems
