"""Normalise each file's raw data, then merge files in order.

Merge rules (later file = later in sorted order, ``workflows.yaml`` first):
- map sections (``agents``, ``phases``, ``mcp_servers``, ...) merge by key; a later file
  replaces a whole entry and a warning names both places;
- ``workflows``, ``schedules``, ``triggers`` merge by ``id`` the same way (order of first
  appearance is kept); two entries with one id in the same file are an error;
- ``daemon`` merges field by field (a later file replaces one daemon key, not the block);
- any other key: the later file wins.
The source map is re-rooted alongside, so every merged field still names its own file:line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from animus_config._diagnostics import ConfigDiagnostic, FieldPath, SourceLocation, SourceMap

__all__ = ["ID_LIST_SECTIONS", "MAP_SECTIONS", "FileData", "MergeResult", "merge_files"]

MAP_SECTIONS = frozenset(
    {
        "mcp_servers",
        "agents",
        "agent_channels",
        "models",
        "phase_catalog",
        "phases",
        "secrets",
        "tools",
        "phase_mcp_bindings",
        "integrations",
    }
)
ID_LIST_SECTIONS = ("workflows", "schedules", "triggers")
_ENTRY_KEYS = frozenset(
    {
        "id",
        "workflow_ref",
        "agent",
        "max_rework_attempts",
        "skip_if",
        "on_verdict",
        "budget",
        "system_prompt_override",
    }
)
_WORKFLOW_KEYS = (
    "id",
    "name",
    "description",
    "phases",
    "variables",
    "worktree",
    "budget",
    "post_success",
)


@dataclass
class FileData:
    data: dict[str, Any]
    smap: SourceMap


@dataclass
class MergeResult:
    data: dict[str, Any] = field(default_factory=dict)
    smap: SourceMap = field(default_factory=SourceMap)
    errors: list[ConfigDiagnostic] = field(default_factory=list)
    warnings: list[ConfigDiagnostic] = field(default_factory=list)


def _rename(smap: SourceMap, renames: dict[FieldPath, FieldPath]) -> None:
    """Re-root every entry under each ``renames`` key (all keys of one length) in one pass."""
    if not renames:
        return
    depth = len(next(iter(renames)))
    for attr in ("keys", "values"):
        table: dict[FieldPath, SourceLocation] = getattr(smap, attr)
        kept: dict[FieldPath, SourceLocation] = {}
        moved: dict[FieldPath, SourceLocation] = {}
        for path, loc in table.items():
            dst = renames.get(path[:depth]) if len(path) >= depth else None
            if dst is None:
                kept[path] = loc
            else:
                moved[dst + path[depth:]] = loc
        kept.update(moved)
        setattr(smap, attr, kept)


def _normalise_entries(
    entries: list[Any], base: FieldPath, smap: SourceMap, renames: dict[FieldPath, FieldPath]
) -> list[tuple[FieldPath, SourceLocation]]:
    """String and single-key map forms of phase entries become ``{id: ..., ...}``.

    Returns the id locations to record once the collected ``renames`` are applied.
    """
    ids: list[tuple[FieldPath, SourceLocation]] = []
    for index, entry in enumerate(entries):
        here = (*base, index)
        if isinstance(entry, str):
            entries[index] = {"id": entry}
            loc = smap.keys.get(here)
            if loc is not None:
                ids.append((here, loc))
        elif (
            isinstance(entry, dict)
            and len(entry) == 1
            and next(iter(entry)) not in _ENTRY_KEYS
            and isinstance(next(iter(entry.values())), (dict, type(None)))
        ):
            ((phase_id, body),) = entry.items()
            key_loc = smap.keys.get((*here, phase_id))
            renames[(*here, phase_id)] = here
            entries[index] = {"id": phase_id, **(body or {})}
            if key_loc is not None:
                ids.append((here, key_loc))
    return ids


def normalise_file(data: dict[str, Any], smap: SourceMap) -> None:
    """Single top-level workflow form → ``workflows: [...]``; phase entry short forms."""
    if isinstance(data.get("phases"), list):
        workflows = data.get("workflows")
        if not isinstance(workflows, list):
            workflows = []
            data["workflows"] = workflows
        target = ("workflows", len(workflows))
        workflow: dict[str, Any] = {}
        top_renames: dict[FieldPath, FieldPath] = {}
        for key in _WORKFLOW_KEYS:
            if key in data:
                workflow[key] = data.pop(key)
                top_renames[(key,)] = (*target, key)
        _rename(smap, top_renames)
        anchor = smap.keys.get((*target, "id")) or smap.keys.get((*target, "phases"))
        if anchor is not None:
            smap.keys.setdefault(target, anchor)
        workflows.append(workflow)
    workflows = data.get("workflows")
    if isinstance(workflows, list):
        renames: dict[FieldPath, FieldPath] = {}
        ids: list[tuple[FieldPath, SourceLocation]] = []
        for index, workflow in enumerate(workflows):
            if isinstance(workflow, dict) and isinstance(workflow.get("phases"), list):
                base = ("workflows", index, "phases")
                ids += _normalise_entries(workflow["phases"], base, smap, renames)
        _rename(smap, renames)
        for here, loc in ids:
            smap.keys[here] = loc
            smap.keys[(*here, "id")] = loc
            smap.values[(*here, "id")] = loc


_Index = dict[FieldPath, list[tuple[bool, FieldPath, SourceLocation]]]


def _index(smap: SourceMap) -> _Index:
    """Entries grouped by their first one and two path parts, so copying one section entry
    touches only that entry's fields (merging stays linear in the size of the config)."""
    index: _Index = {}
    for is_key, table in ((True, smap.keys), (False, smap.values)):
        for path, loc in table.items():
            for depth in (1, 2):
                if len(path) >= depth:
                    index.setdefault(path[:depth], []).append((is_key, path, loc))
    return index


def _copy(index: _Index, src: FieldPath, dst: FieldPath, into: SourceMap) -> None:
    n = len(src)
    for is_key, path, loc in index.get(src, ()):
        (into.keys if is_key else into.values)[dst + path[n:]] = loc


def _where(smap: SourceMap, path: FieldPath) -> str:
    loc = smap.key_location(path)
    return str(loc) if loc else "an earlier file"


def merge_files(files: list[FileData]) -> MergeResult:
    out = MergeResult()
    merged = out.data
    for item in files:
        data, smap = item.data, item.smap
        located = _index(smap)
        for key, value in data.items():
            existing = merged.get(key)
            top = (key,)
            if key in MAP_SECTIONS and isinstance(value, dict) and isinstance(existing, dict):
                for name, entry in value.items():
                    path = (key, name)
                    if name in existing:
                        out.warnings.append(
                            ConfigDiagnostic.at(
                                "warning",
                                f"redefines '{name}' (previous definition at "
                                f"{_where(out.smap, path)} is replaced)",
                                smap.key_location(path),
                                path,
                            )
                        )
                        out.smap.drop_subtree(path)
                    existing[name] = entry
                    _copy(located, path, path, out.smap)
                continue
            if key in ID_LIST_SECTIONS and isinstance(value, list):
                target = existing if isinstance(existing, list) else []
                if not isinstance(existing, list):
                    if key in merged:
                        out.smap.drop_subtree(top)
                    merged[key] = target
                    first_loc = smap.keys.get(top) or smap.values.get(top)
                    if first_loc is not None:
                        out.smap.keys[top] = first_loc
                seen_here: dict[str, int] = {}
                for index, entry in enumerate(value):
                    src = (key, index)
                    entry_id = entry.get("id") if isinstance(entry, dict) else None
                    if isinstance(entry_id, str):
                        if entry_id in seen_here:
                            out.errors.append(
                                ConfigDiagnostic.at(
                                    "error",
                                    f"duplicate {key[:-1]} id '{entry_id}' (also at "
                                    f"{smap.key_location((key, seen_here[entry_id]))})",
                                    smap.key_location((*src, "id")),
                                    (*src, "id"),
                                )
                            )
                            continue
                        seen_here[entry_id] = index
                        prior = next(
                            (
                                j
                                for j, e in enumerate(target)
                                if isinstance(e, dict) and e.get("id") == entry_id
                            ),
                            None,
                        )
                        if prior is not None:
                            dst = (key, prior)
                            out.warnings.append(
                                ConfigDiagnostic.at(
                                    "warning",
                                    f"redefines {key[:-1]} '{entry_id}' (previous definition "
                                    f"at {_where(out.smap, dst)} is replaced)",
                                    smap.key_location(src),
                                    dst,
                                )
                            )
                            out.smap.drop_subtree(dst)
                            target[prior] = entry
                            _copy(located, src, dst, out.smap)
                            continue
                    dst = (key, len(target))
                    target.append(entry)
                    _copy(located, src, dst, out.smap)
                continue
            if key == "daemon" and isinstance(value, dict) and isinstance(existing, dict):
                for name, entry in value.items():
                    path = (key, name)
                    if name in existing:
                        out.warnings.append(
                            ConfigDiagnostic.at(
                                "warning",
                                f"daemon.{name} redefined (previous value at "
                                f"{_where(out.smap, path)} is replaced)",
                                smap.key_location(path),
                                path,
                            )
                        )
                        out.smap.drop_subtree(path)
                    existing[name] = entry
                    _copy(located, path, path, out.smap)
                continue
            if key in merged:
                out.warnings.append(
                    ConfigDiagnostic.at(
                        "warning",
                        f"redefined (previous value at {_where(out.smap, top)} is replaced)",
                        smap.key_location(top),
                        top,
                    )
                )
                out.smap.drop_subtree(top)
            merged[key] = value
            _copy(located, top, top, out.smap)
    return out
