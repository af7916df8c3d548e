"""``plugins.lock``: what was installed, with the sha256 of each installed executable.

TOML, ``schema_version = "1.0"``, ``generated_at``, then one ``[[plugins]]`` table per
install: ``name``, ``version``, ``artifact_sha256``, ``installed_at``, ``installed_kind``
(plus ``signature_bundle_sha256`` / ``native_kind`` when known). A lockfile that cannot be
parsed is never overwritten: :class:`LockfileError` says where it is.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import tomli_w

from animus_plugin_host._discovery import global_plugins_dir
from animus_plugin_host._errors import LockfileError
from animus_plugin_host._probe import file_sha256
from animus_protocol.paths import GlobalPaths, ProjectPaths

__all__ = [
    "LOCK_SCHEMA_VERSION",
    "LockEntry",
    "LockIssue",
    "LockVerification",
    "Scope",
    "read_lock",
    "verify_lock",
    "write_lock",
]

LOCK_SCHEMA_VERSION = "1.0"
Scope = Literal["project", "global"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class LockEntry:
    name: str
    version: str
    artifact_sha256: str
    installed_at: str
    installed_kind: str | None = None
    native_kind: str | None = None
    signature_bundle_sha256: str | None = None

    def to_toml(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "artifact_sha256": self.artifact_sha256,
        }
        if self.signature_bundle_sha256:
            data["signature_bundle_sha256"] = self.signature_bundle_sha256
        data["installed_at"] = self.installed_at
        if self.installed_kind:
            data["installed_kind"] = self.installed_kind
        if self.native_kind:
            data["native_kind"] = self.native_kind
        return data


def read_lock(path: Path) -> list[LockEntry]:
    """Entries of ``path``; an absent file is empty; a broken one raises LockfileError."""
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LockfileError(
            f"cannot read {path}: {exc}",
            details={"path": str(path)},
            hint="fix or move the file aside; it was left untouched",
        ) from exc
    entries: list[LockEntry] = []
    for index, raw in enumerate(data.get("plugins", [])):
        try:
            entries.append(
                LockEntry(
                    name=str(raw["name"]),
                    version=str(raw["version"]),
                    artifact_sha256=str(raw["artifact_sha256"]),
                    installed_at=str(raw["installed_at"]),
                    installed_kind=raw.get("installed_kind"),
                    native_kind=raw.get("native_kind"),
                    signature_bundle_sha256=raw.get("signature_bundle_sha256"),
                )
            )
        except (KeyError, TypeError) as exc:
            raise LockfileError(
                f"{path}: plugins[{index}] lacks field {exc}",
                details={"path": str(path), "index": index},
            ) from exc
    return entries


def write_lock(path: Path, entries: list[LockEntry]) -> None:
    """Write atomically (temp file, fsync, rename), entries sorted by name."""
    doc = {
        "schema_version": LOCK_SCHEMA_VERSION,
        "generated_at": _now(),
        "plugins": [e.to_toml() for e in sorted(entries, key=lambda e: e.name)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".plugins.lock.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(tomli_w.dumps(doc).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class LockIssue:
    scope: Scope
    name: str
    problem: Literal["modified", "missing"]
    expected_sha256: str
    actual_sha256: str | None
    path: Path

    def __str__(self) -> str:
        if self.problem == "missing":
            return f"{self.name} ({self.scope}): executable {self.path} is missing"
        return (
            f"{self.name} ({self.scope}): executable {self.path} was modified "
            f"(locked sha256 {self.expected_sha256[:12]}…, now {str(self.actual_sha256)[:12]}…)"
        )


@dataclass
class LockVerification:
    ok: list[str] = field(default_factory=list)
    issues: list[LockIssue] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.issues

    @property
    def modified(self) -> list[LockIssue]:
        return [i for i in self.issues if i.problem == "modified"]

    @property
    def missing(self) -> list[LockIssue]:
        return [i for i in self.issues if i.problem == "missing"]


def lock_roots(project_root: Path | None, env: Mapping[str, str]) -> list[tuple[Scope, Path, Path]]:
    """``(scope, lockfile, plugins dir)`` for the project (if any) and the global root."""
    roots: list[tuple[Scope, Path, Path]] = []
    if project_root is not None:
        project = ProjectPaths(project_root)
        roots.append(("project", project.plugins_lock, project.plugins_dir))
    roots.append(("global", GlobalPaths.from_env(env).plugins_lock, global_plugins_dir(env)))
    return roots


def verify_lock(
    project_root: Path | str | None = None, *, env: Mapping[str, str] | None = None
) -> LockVerification:
    """Re-hash every locked executable in both roots; report modified and missing ones."""
    env = os.environ if env is None else env
    root = Path(project_root).resolve() if project_root is not None else None
    report = LockVerification()
    for scope, lock_path, plugins_dir in lock_roots(root, env):
        for entry in read_lock(lock_path):
            exe = plugins_dir / entry.name
            if not exe.exists():
                report.issues.append(
                    LockIssue(scope, entry.name, "missing", entry.artifact_sha256, None, exe)
                )
                continue
            actual = file_sha256(exe)
            if actual != entry.artifact_sha256:
                report.issues.append(
                    LockIssue(scope, entry.name, "modified", entry.artifact_sha256, actual, exe)
                )
            else:
                report.ok.append(entry.name)
    return report
