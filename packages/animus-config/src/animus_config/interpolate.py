"""``${VAR}`` interpolation on raw YAML text, before parsing, with positions kept.

Forms: ``${VAR}`` (unset is an error), ``${VAR:-default}`` (default when unset or empty),
``${VAR:?message}`` (error with the message when unset or empty), ``$$`` (a literal ``$``).
``${secret.<name>}`` is left untouched for the secrets resolver. A lone ``$`` is literal.

Substitution changes the text's length, so :class:`PositionMap` maps a position in the
interpolated text back to the line and column of the original file; every later error (YAML
syntax, schema) therefore points at what the operator actually wrote.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from animus_config._diagnostics import ConfigDiagnostic, SourceLocation

__all__ = ["InterpolationResult", "PositionMap", "interpolate_text"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECRET_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_SENSITIVE = re.compile(r"TOKEN|KEY|SECRET|PASSWORD", re.IGNORECASE)
# The key whose value the expression sits in, on the same line (block or flow style).
_KEY_BEFORE = re.compile(r"([A-Za-z0-9_.-]+)\s*:\s+[\"']?[^,{}\[\]:]*$")
_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z0-9_.-]+)\s*:")


@dataclass
class PositionMap:
    """Maps offsets of interpolated text back to the original text's line and column."""

    file: str
    original: str
    # Parallel, increasing: output offset where a run of unchanged text starts, and the
    # original offset it came from. Inside a substituted value, positions clamp to the
    # start of the ``${...}`` expression.
    out_starts: list[int] = field(default_factory=lambda: [0])
    in_starts: list[int] = field(default_factory=lambda: [0])
    _line_starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.original)]

    def add_run(self, out_offset: int, in_offset: int) -> None:
        self.out_starts.append(out_offset)
        self.in_starts.append(in_offset)

    def original_offset(self, out_offset: int) -> int:
        i = bisect.bisect_right(self.out_starts, out_offset) - 1
        return self.in_starts[i] + (out_offset - self.out_starts[i])

    def location_of_original(self, in_offset: int) -> SourceLocation:
        line = bisect.bisect_right(self._line_starts, in_offset) - 1
        return SourceLocation(self.file, line + 1, in_offset - self._line_starts[line] + 1)

    def location(self, out_offset: int) -> SourceLocation:
        return self.location_of_original(self.original_offset(out_offset))


@dataclass
class InterpolationResult:
    text: str
    positions: PositionMap
    errors: list[ConfigDiagnostic]
    warnings: list[ConfigDiagnostic]
    # ``${secret.<name>}`` references, checked against ``secrets:`` once files are merged.
    secret_refs: list[tuple[str, SourceLocation]] = field(default_factory=list)


def _context_allows_secret(original: str, offset: int) -> bool:
    """True when the expression sits in a ``*_env`` field or inside the ``secrets:`` block."""
    line_start = original.rfind("\n", 0, offset) + 1
    line = original[line_start:offset]
    key = _KEY_BEFORE.search(line)
    if key and key.group(1).endswith("_env"):
        return True
    # Nearest preceding top-level key (column 0) decides the section.
    for prev in reversed(original[:line_start].splitlines()):
        top = _TOP_LEVEL_KEY.match(prev)
        if top:
            return top.group(1) == "secrets"
    top_here = _TOP_LEVEL_KEY.match(original[line_start:])
    return bool(top_here and top_here.group(1) == "secrets")


def interpolate_text(text: str, file: str, env: Mapping[str, str]) -> InterpolationResult:
    """Substitute every expression in ``text``; collect all errors rather than stop at one."""
    positions = PositionMap(file, text)
    out: list[str] = []
    out_len = 0
    errors: list[ConfigDiagnostic] = []
    warnings: list[ConfigDiagnostic] = []
    secret_refs: list[tuple[str, SourceLocation]] = []
    i = 0
    n = len(text)
    chunk_start = 0

    def flush(upto: int) -> None:
        nonlocal out_len
        if upto > chunk_start:
            out.append(text[chunk_start:upto])
            out_len += upto - chunk_start

    while i < n:
        dollar = text.find("$", i)
        if dollar < 0:
            break
        nxt = text[dollar + 1 : dollar + 2]
        if nxt == "$":
            flush(dollar + 1)  # keep one "$", drop the second
            chunk_start = dollar + 2
            positions.add_run(out_len, dollar + 2)
            i = dollar + 2
            continue
        if nxt != "{":
            i = dollar + 1
            continue
        close = text.find("}", dollar + 2)
        newline = text.find("\n", dollar + 2)
        here = positions.location_of_original(dollar)
        if close < 0 or (0 <= newline < close):
            errors.append(
                ConfigDiagnostic.at("error", "unterminated '${' expression (missing '}')", here)
            )
            i = dollar + 2
            continue
        body = text[dollar + 2 : close]
        if body.startswith("secret."):
            secret_name = body[len("secret.") :]
            if _SECRET_NAME.fullmatch(secret_name):
                secret_refs.append((secret_name, here))
            else:
                errors.append(
                    ConfigDiagnostic.at(
                        "error", f"invalid secret reference '${{{body}}}': expected a name", here
                    )
                )
            i = close + 1  # left in the text: resolved where the value is used
            continue
        name_match = _NAME.match(body)
        if name_match is None:
            errors.append(
                ConfigDiagnostic.at(
                    "error", f"invalid interpolation '${{{body}}}': expected a variable name", here
                )
            )
            i = close + 1
            continue
        name = name_match.group(0)
        rest = body[name_match.end() :]
        value = env.get(name)
        replacement: str | None
        if rest == "":
            replacement = value
            if value is None:
                errors.append(
                    ConfigDiagnostic.at(
                        "error",
                        f"environment variable {name} is not set "
                        f"(use ${{{name}:-default}} to give a default)",
                        here,
                    )
                )
        elif rest.startswith(":-"):
            replacement = value if value else rest[2:]
        elif rest.startswith(":?"):
            replacement = value if value else None
            if not value:
                message = rest[2:] or "required but not set"
                errors.append(ConfigDiagnostic.at("error", f"{name}: {message}", here))
        else:
            errors.append(
                ConfigDiagnostic.at(
                    "error",
                    f"invalid interpolation '${{{body}}}': expected ${{{name}}}, "
                    f"${{{name}:-default}} or ${{{name}:?message}}",
                    here,
                )
            )
            replacement = None
        if _SENSITIVE.search(name) and not _context_allows_secret(text, dollar):
            warnings.append(
                ConfigDiagnostic.at(
                    "warning",
                    f"${{{name}}} looks like a secret; declare it under 'secrets:' or pass it "
                    "through a '*_env' field so it is not written into compiled config",
                    here,
                )
            )
        flush(dollar)
        sub = replacement if replacement is not None else ""
        # The substituted value maps to the expression's start; text after it maps 1:1 again.
        positions.add_run(out_len, dollar)
        out.append(sub)
        out_len += len(sub)
        chunk_start = close + 1
        positions.add_run(out_len, close + 1)
        i = close + 1
    flush(n)
    return InterpolationResult("".join(out), positions, errors, warnings, secret_refs)
