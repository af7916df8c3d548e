"""Time helpers: an aware UTC clock, one RFC 3339 form, and the CLI duration syntax.

Every timestamp Animus writes is UTC with microseconds and a ``Z`` suffix
(``2026-11-21T20:00:00.000000Z``), so strings sort in time order and compare equal when the
instants do. Readers accept any RFC 3339 / ISO 8601 form with an offset (``Z`` or ``+hh:mm``);
naive input is taken to be UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

from animus_protocol.envelope import InvalidInputError

__all__ = [
    "Timestamp",
    "TimestampStr",
    "format_rfc3339",
    "parse_duration",
    "parse_rfc3339",
    "to_utc",
    "utc_now",
    "utc_now_str",
]


def utc_now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Convert to aware UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_rfc3339(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always microseconds, always ``Z``)."""
    return to_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 timestamp into aware UTC; raises :class:`InvalidInputError`."""
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            f"invalid timestamp {value!r}: expected RFC 3339, e.g. 2026-01-31T12:00:00Z",
            details={"value": value},
        ) from None
    return to_utc(parsed)


Timestamp = Annotated[
    datetime,
    AfterValidator(to_utc),
    PlainSerializer(format_rfc3339, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A datetime field stored as aware UTC and written in the one RFC 3339 form."""


def _canonical_timestamp_str(value: object) -> str:
    if isinstance(value, datetime):
        return format_rfc3339(value)
    if isinstance(value, str):
        try:
            return format_rfc3339(parse_rfc3339(value))
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None  # pydantic reports ValueError per field
    raise ValueError(f"expected an RFC 3339 timestamp, got {type(value).__name__}")


def utc_now_str() -> str:
    """:func:`utc_now` in the canonical string form."""
    return format_rfc3339(utc_now())


TimestampStr = Annotated[str, BeforeValidator(_canonical_timestamp_str)]
"""A timestamp kept as its canonical string (for fields a wire model types as ``str``)."""


_UNIT_SECONDS: dict[str, float] = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_BARE = re.compile(r"\d+(?:\.\d+)?")
_ACCEPTED = "a number with a unit: 30s, 5m, 12h, 7d, 2w, 500ms, or compound like 1h30m"


def parse_duration(value: str | float, *, bare_unit: str = "s") -> timedelta:
    """Parse ``30s``, ``5m``, ``12h``, ``7d``, ``2w``, ``500ms``, ``1h30m`` or a bare number.

    A bare number is read in ``bare_unit`` (commands that historically took days, such as
    ``--older-than 30``, pass ``bare_unit="d"``). Negative, empty or malformed input raises
    :class:`InvalidInputError` naming the accepted forms.
    """
    if bare_unit not in _UNIT_SECONDS:
        raise InvalidInputError(
            f"unknown duration unit {bare_unit!r}; accepted: {', '.join(_UNIT_SECONDS)}"
        )
    if isinstance(value, bool):
        raise InvalidInputError(f"invalid duration {value!r}: expected {_ACCEPTED}")
    if isinstance(value, int | float):
        if value < 0:
            raise InvalidInputError(f"invalid duration {value!r}: must not be negative")
        return timedelta(seconds=float(value) * _UNIT_SECONDS[bare_unit])
    text = value.strip().lower()
    if _BARE.fullmatch(text):
        return timedelta(seconds=float(text) * _UNIT_SECONDS[bare_unit])
    total = 0.0
    pos = 0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise InvalidInputError(
            f"invalid duration {value!r}: expected {_ACCEPTED}",
            details={"value": value},
            hint="use e.g. --since 30m or --older-than 7d",
        )
    return timedelta(seconds=total)
