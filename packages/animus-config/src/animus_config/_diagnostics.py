"""Diagnostics with a source position, the source map, and the configuration error.

Every problem found while loading configuration becomes a :class:`ConfigDiagnostic` naming
the file, line, column and field path, so an operator can jump straight to the offending line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from animus_protocol.envelope import InvalidInputError

__all__ = [
    "ConfigDiagnostic",
    "ConfigError",
    "FieldPath",
    "SourceLocation",
    "SourceMap",
    "format_path",
]

FieldPath = tuple[str | int, ...]
Severity = Literal["error", "warning"]


def format_path(path: Iterable[str | int]) -> str:
    """``("workflows", 0, "phases", 1)`` → ``workflows[0].phases[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class SourceLocation:
    """A 1-based line and column in one file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class SourceMap:
    """Field path → where the field's key (and its value) were written.

    ``keys`` holds the location of a mapping key (or of a sequence item), ``values`` the location
    of the value. Lookups fall back to the nearest ancestor that has a location, so a problem
    in a default-filled or normalised field still points at the closest authored line.
    """

    keys: dict[FieldPath, SourceLocation] = field(default_factory=dict)
    values: dict[FieldPath, SourceLocation] = field(default_factory=dict)

    def key_location(self, path: FieldPath) -> SourceLocation | None:
        return self._lookup(path, prefer_value=False)

    def value_location(self, path: FieldPath) -> SourceLocation | None:
        return self._lookup(path, prefer_value=True)

    def _lookup(self, path: FieldPath, *, prefer_value: bool) -> SourceLocation | None:
        first, second = (self.values, self.keys) if prefer_value else (self.keys, self.values)
        probe = tuple(path)
        while True:
            hit = first.get(probe) or second.get(probe)
            if hit is not None:
                return hit
            if not probe:
                return None
            probe = probe[:-1]

    def file_of(self, path: FieldPath) -> str | None:
        loc = self.key_location(path)
        return loc.file if loc else None

    def copy_subtree(self, src: FieldPath, dst: FieldPath, into: SourceMap) -> None:
        """Copy every entry under ``src`` into ``into`` re-rooted at ``dst``."""
        n = len(src)
        for table, target in ((self.keys, into.keys), (self.values, into.values)):
            for path, loc in table.items():
                if path[:n] == src:
                    target[dst + path[n:]] = loc

    def drop_subtree(self, prefix: FieldPath) -> None:
        n = len(prefix)
        for table in (self.keys, self.values):
            for path in [p for p in table if p[:n] == prefix]:
                del table[path]


@dataclass(frozen=True)
class ConfigDiagnostic:
    """One finding: an error (loading fails) or a warning (loading succeeds)."""

    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    field_path: str = ""

    @classmethod
    def at(
        cls,
        severity: Severity,
        message: str,
        location: SourceLocation | None,
        path: FieldPath | str = "",
    ) -> ConfigDiagnostic:
        field_path = path if isinstance(path, str) else format_path(path)
        if location is None:
            return cls(severity, message, field_path=field_path)
        return cls(severity, message, location.file, location.line, location.column, field_path)

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        what = f"{self.field_path}: " if self.field_path else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}{prefix}{what}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field_path": self.field_path,
        }


class ConfigError(InvalidInputError):
    """Configuration failed to load; ``diagnostics`` lists every error (code ``invalid_input``)."""

    diagnostics: list[ConfigDiagnostic]

    def __init__(self, diagnostics: Iterable[ConfigDiagnostic]) -> None:
        # Errors first, then in file order, so the report reads top to bottom.
        self.diagnostics = sorted(
            diagnostics,
            key=lambda d: (d.severity != "error", d.file or "", d.line or 0, d.column or 0),
        )
        errors = [d for d in self.diagnostics if d.severity == "error"]
        lines = [str(d) for d in errors] or ["invalid configuration"]
        summary = lines[0] if len(lines) == 1 else f"{len(lines)} errors:\n" + "\n".join(lines)
        super().__init__(
            summary,
            details={"diagnostics": [d.to_dict() for d in self.diagnostics]},
            hint="fix the listed lines and run the command again",
        )

    @property
    def errors(self) -> list[ConfigDiagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def __str__(self) -> str:
        return self.message
