"""Phase outputs: ``state/workflows/<run>/phase-outputs/<phase>.json`` then ``<phase>.completed``.

The output is written atomically (temp file, fsync, rename, fsync of the directory) and only
then the completion marker, so a reader that sees the marker always sees a whole output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from animus_protocol.timeutil import utc_now_str
from animus_store import write_json_atomic

__all__ = ["read_phase_output", "read_phase_outputs", "write_phase_output"]


def write_phase_output(directory: Path, phase_id: str, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{phase_id}.json"
    write_json_atomic(target, data)
    marker = {"phase_id": phase_id, "attempt": data.get("attempt"), "completed_at": utc_now_str()}
    write_json_atomic(directory / f"{phase_id}.completed", marker)
    return target


def read_phase_output(directory: Path, phase_id: str) -> dict[str, Any] | None:
    """The phase's output when its completion marker exists (else None)."""
    if not (directory / f"{phase_id}.completed").exists():
        return None
    try:
        data = json.loads((directory / f"{phase_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_phase_outputs(directory: Path) -> dict[str, dict[str, Any]]:
    """Every completed phase output of a run, by phase id."""
    out: dict[str, dict[str, Any]] = {}
    if not directory.is_dir():
        return out
    for marker in sorted(directory.glob("*.completed")):
        data = read_phase_output(directory, marker.stem)
        if data is not None:
            out[marker.stem] = data
    return out
