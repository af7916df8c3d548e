"""``--since 7d`` / ``--until 2026-01-31T00:00:00Z``: a duration ago or a timestamp."""

from __future__ import annotations

from datetime import datetime

from animus_protocol.envelope import InvalidInputError
from animus_protocol.timeutil import format_rfc3339, parse_duration, parse_rfc3339, utc_now

__all__ = ["resolve_instant"]


def resolve_instant(value: str | datetime | None, *, now: datetime | None = None) -> str | None:
    """A canonical timestamp for ``value``: a datetime, an RFC 3339 string, or a duration ago."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_rfc3339(value)
    text = value.strip()
    if "T" in text or (len(text) >= 10 and text[4:5] == "-"):
        return format_rfc3339(parse_rfc3339(text))
    try:
        delta = parse_duration(text, bare_unit="d")
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"invalid time {value!r}: expected a duration such as 7d or 12h, or a timestamp "
            "such as 2026-01-31T12:00:00Z",
            details={"value": value},
            hint="e.g. --since 7d",
        ) from exc
    return format_rfc3339((now or utc_now()) - delta)
