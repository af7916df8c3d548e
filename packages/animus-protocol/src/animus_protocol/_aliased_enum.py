"""A string enum that parses leniently: any case, any separator, plus legacy aliases.

Status input from users, YAML and older state files comes in many spellings
(``In_Progress``, ``inprogress``, ``todo``). Every spelling is folded to one key (lower case,
separators ``-``, ``_`` and spaces dropped); the canonical value is always what is written.
Pydantic validation goes through ``_missing_``, so models accept the same spellings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Self

from animus_protocol.envelope import InvalidInputError

__all__ = ["AliasedEnum", "fold_key"]

_SEPARATORS = re.compile(r"[-_\s]+")
_TABLES: dict[type[AliasedEnum], dict[str, AliasedEnum]] = {}


def fold_key(value: str) -> str:
    """Lower case with every ``-``, ``_`` and whitespace run removed."""
    return _SEPARATORS.sub("", value.strip().lower())


class AliasedEnum(StrEnum):
    """Base for Animus status-like enums; subclasses override :meth:`legacy_aliases`."""

    @classmethod
    def legacy_aliases(cls) -> Mapping[str, str]:
        """Extra spellings (alias -> canonical value) beyond case and separator folding."""
        return {}

    @classmethod
    def label(cls) -> str:
        """Human name used in error messages, e.g. ``task status``."""
        words = re.findall(r"[A-Z][a-z]*", cls.__name__)
        return " ".join(w.lower() for w in words) or cls.__name__

    @classmethod
    def _table(cls) -> dict[str, AliasedEnum]:
        table = _TABLES.get(cls)
        if table is None:
            table = {}
            for member in cls:
                key = fold_key(member.value)
                if key in table:
                    raise TypeError(f"{cls.__name__}: {member.value!r} collides after folding")
                table[key] = member
            for alias, canonical in cls.legacy_aliases().items():
                # Direct map access: calling cls(canonical) would re-enter _missing_.
                target = cls._value2member_map_[canonical]
                assert isinstance(target, AliasedEnum)
                table.setdefault(fold_key(alias), target)
            _TABLES[cls] = table
        return table

    @classmethod
    def lookup(cls, value: object) -> Self | None:
        """The member for ``value`` in any accepted spelling, else ``None``."""
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            return None
        member = cls._table().get(fold_key(value))
        return member if isinstance(member, cls) else None

    @classmethod
    def accepted(cls) -> str:
        """``backlog (todo), ready, in-progress (in_progress, inprogress), ...``."""
        by_member: dict[str, list[str]] = {m.value: [] for m in cls}
        for alias, canonical in cls.legacy_aliases().items():
            by_member[canonical].append(alias)
        parts = []
        for value, aliases in by_member.items():
            parts.append(f"{value} ({', '.join(aliases)})" if aliases else value)
        return ", ".join(parts)

    @classmethod
    def parse(cls, value: object) -> Self:
        """Parse case-insensitively; raises :class:`InvalidInputError` listing accepted values."""
        member = cls.lookup(value)
        if member is None:
            raise InvalidInputError(
                f"invalid {cls.label()} {value!r}; accepted: {cls.accepted()}",
                details={"value": value if isinstance(value, str) else repr(value)},
                hint=f"use one of: {', '.join(m.value for m in cls)}",
            )
        return member

    @classmethod
    def _missing_(cls, value: Any) -> Self | None:
        return cls.lookup(value)
