"""One-way, idempotent moves of older state layouts into the current one.

Every helper reports what it moved, imported or left alone, and never deletes anything it
could not move: when both the old and the new place hold a file, both are kept and the
conflict is reported for an operator to settle.
"""

from __future__ import annotations

import contextlib
import filecmp
import json
import os
import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_protocol.paths import ProjectPaths, ScopePaths
from animus_store.db import Database, utc_now
from animus_store.scope_root import ensure_scope_root

__all__ = [
    "LEGACY_RUNTIME_ITEMS",
    "MigrationReport",
    "import_legacy_workflows",
    "migrate_all",
    "migrate_repo_local_state",
    "migrate_state_machines",
]

# Runtime state older versions kept under <project>/.animus/ (authored config stays there).
LEGACY_RUNTIME_ITEMS = (
    "core-state.json",
    "resume-config.json",
    "workflow.db",
    "state",
    "runs",
    "logs",
    "artifacts",
    "daemon",
)


@dataclass
class MigrationReport:
    """What a migration did. ``kept`` lists (path, reason) left in place on purpose."""

    moved: list[tuple[Path, Path]] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    kept: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.imported)

    def extend(self, other: MigrationReport) -> None:
        self.moved += other.moved
        self.imported += other.imported
        self.kept += other.kept


def _move_file(source: Path, target: Path, report: MigrationReport) -> None:
    if target.exists():
        if target.is_file() and filecmp.cmp(source, target, shallow=False):
            source.unlink()  # an identical copy already arrived: nothing is lost
            report.moved.append((source, target))
        else:
            report.kept.append((source, f"{target} already exists with other content"))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)  # rename on one filesystem, copy-then-delete across
    report.moved.append((source, target))


def _move_tree(source: Path, target: Path, report: MigrationReport) -> None:
    """Move ``source`` into ``target``, merging directories entry by entry."""
    if source.is_symlink() or not source.is_dir():
        _move_file(source, target, report)
        return
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        report.moved.append((source, target))
        return
    if not target.is_dir():
        report.kept.append((source, f"{target} exists and is not a directory"))
        return
    for child in sorted(source.iterdir()):
        _move_tree(child, target / child.name, report)
    with contextlib.suppress(OSError):
        source.rmdir()  # only when everything inside moved


def _settle_sqlite(db_path: Path) -> None:
    """Fold a WAL file into the database so the main file alone is complete."""
    if not Path(f"{db_path}-wal").exists():
        return
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def migrate_repo_local_state(
    project_root: str | os.PathLike[str], scope: ScopePaths
) -> MigrationReport:
    """Move runtime state of older layouts from ``<project>/.animus/`` into the scoped root."""
    legacy = ProjectPaths(Path(project_root)).animus_dir
    report = MigrationReport()
    for name in LEGACY_RUNTIME_ITEMS:
        source = legacy / name
        if not source.exists() and not source.is_symlink():
            continue
        target = scope.root / name
        if name == "workflow.db":
            if target.exists():
                report.kept.append((source, f"{target} already exists; merge by hand"))
                continue
            try:
                _settle_sqlite(source)
            except sqlite3.Error as exc:
                report.kept.append((source, f"cannot checkpoint its WAL: {exc}"))
                continue
            _move_file(source, target, report)
            for suffix in ("-wal", "-shm"):
                side = Path(f"{source}{suffix}")
                if side.exists() and not target.with_name(target.name + suffix).exists():
                    _move_file(side, target.with_name(target.name + suffix), report)
            continue
        _move_tree(source, target, report)
    return report


def migrate_state_machines(scope: ScopePaths) -> MigrationReport:
    """``state/state-machines.v1.json`` → ``config/state-machines.v1.json``."""
    report = MigrationReport()
    source = scope.state_dir / "state-machines.v1.json"
    if source.exists():
        _move_file(source, scope.state_machines, report)
    return report


def _first(doc: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = doc.get(key)
        if value not in (None, ""):
            return value
    return None


def _subject_key(subject: Any, task_id: Any) -> str | None:
    if isinstance(subject, dict):
        inner = subject.get("Task") or subject.get("Requirement")
        if isinstance(inner, dict) and inner.get("id"):
            return str(inner["id"])
        kind, ident = subject.get("kind"), subject.get("id")
        if ident:
            bare = {"task", "requirement", "custom", "animus.task", "animus.requirement"}
            return str(ident) if kind in bare or kind is None else f"{kind}::{ident}"
    return str(task_id) if task_id else None


def _import_workflow(conn: sqlite3.Connection, doc: dict[str, Any]) -> tuple[bool, int]:
    raw_phases = doc.get("phases")
    phases: list[Any] = raw_phases if isinstance(raw_phases, list) else []
    index = doc.get("current_phase_index")
    phase_id = _first(doc, "current_phase")
    if phase_id is None and isinstance(index, int) and 0 <= index < len(phases):
        entry = phases[index]
        phase_id = entry.get("phase_id") if isinstance(entry, dict) else None
    status = str(doc.get("status") or "pending")
    inserted = conn.execute(
        "INSERT OR IGNORE INTO workflows(id, status, task_id, subject_key, workflow_ref, "
        "phase_id, failed_at, failure_reason, started_at, completed_at, updated_at, json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            str(doc["id"]),
            status,
            _first(doc, "task_id"),
            _subject_key(doc.get("subject"), doc.get("task_id")),
            _first(doc, "workflow_ref"),
            phase_id,
            _first(doc, "failed_at") or (doc.get("completed_at") if status == "failed" else None),
            _first(doc, "failure_reason"),
            _first(doc, "started_at"),
            _first(doc, "completed_at"),
            _first(doc, "updated_at", "completed_at", "started_at") or utc_now(),
            json.dumps(doc, ensure_ascii=False),
        ),
    ).rowcount
    checkpoints = 0
    meta = doc.get("checkpoint_metadata")
    entries = meta.get("checkpoints") if isinstance(meta, dict) else None
    for cp in entries if isinstance(entries, list) else []:
        if not isinstance(cp, dict) or not isinstance(cp.get("number"), int):
            continue
        checkpoints += conn.execute(
            "INSERT OR IGNORE INTO checkpoints(workflow_id, number, timestamp, reason, phase_id, "
            "machine_state, status, snapshot_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(doc["id"]),
                cp["number"],
                str(cp.get("timestamp") or ""),
                str(cp.get("reason") or "manual"),
                cp.get("phase_id"),
                cp.get("machine_state"),
                cp.get("status"),
                json.dumps(cp, ensure_ascii=False),
            ),
        ).rowcount
    return inserted == 1, checkpoints


def import_legacy_workflows(db: Database, *directories: str | os.PathLike[str]) -> MigrationReport:
    """Import ``<id>.json`` workflow files into ``workflows`` (and their checkpoints).

    Files are left where they are; a workflow already in the database is never overwritten
    (so running this again changes nothing). Unreadable files are reported, not touched.
    """
    report = MigrationReport()
    for directory in directories:
        base = Path(directory)
        if not base.is_dir():
            continue
        for path in sorted(base.glob("*.json")):
            try:
                doc = json.loads(path.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                report.kept.append((path, f"not readable JSON: {exc}"))
                continue
            if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not doc["id"]:
                report.kept.append((path, "not a workflow document (no string 'id')"))
                continue
            with db.transaction() as conn:
                inserted, _ = _import_workflow(conn, doc)
            if inserted:
                report.imported.append(doc["id"])
            else:
                report.kept.append((path, f"workflow {doc['id']} is already in the database"))
    return report


def migrate_all(
    project_root: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> MigrationReport:
    """Every migration for one project, in order: repo-local state into the scoped root,
    state machines into ``config/``, legacy workflow files into ``workflow.db``."""
    scope = ensure_scope_root(project_root, env)
    report = migrate_repo_local_state(project_root, scope)
    report.extend(migrate_state_machines(scope))
    legacy_dirs = [scope.state_dir / "workflows", scope.root / "workflows"]
    if any(d.is_dir() and any(d.glob("*.json")) for d in legacy_dirs):
        with Database(scope.workflow_db) as db:
            report.extend(import_legacy_workflows(db, *legacy_dirs))
    return report
