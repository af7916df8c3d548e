"""Syntactic check of a five-field cron expression (minute hour day-of-month month weekday)."""

from __future__ import annotations

__all__ = ["cron_problem"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {m: i + 1 for i, m in enumerate(_MONTHS)},
    ),
    ("day of week", 0, 7, {d: i for i, d in enumerate(_WEEKDAYS)}),
)


def _value(token: str, lo: int, hi: int, names: dict[str, int]) -> int | None:
    low = token.lower()
    if low in names:
        return names[low]
    if not token.isdigit():
        return None
    number = int(token)
    return number if lo <= number <= hi else None


def _field_problem(text: str, name: str, lo: int, hi: int, names: dict[str, int]) -> str | None:
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return f"{name}: bad step {step!r}"
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        first = _value(start, lo, hi, names)
        if first is None:
            return f"{name}: {start!r} is not in {lo}-{hi}"
        if dash:
            last = _value(end, lo, hi, names)
            if last is None:
                return f"{name}: {end!r} is not in {lo}-{hi}"
            if last < first:
                return f"{name}: range {base!r} runs backwards"
    return None


def cron_problem(expression: str) -> str | None:
    """``None`` when valid, else one sentence saying what is wrong."""
    fields = expression.split()
    if len(fields) != 5:
        return (
            f"cron {expression!r} must have 5 fields (minute hour day-of-month month "
            f"day-of-week), got {len(fields)}"
        )
    for text, (name, lo, hi, names) in zip(fields, _FIELDS, strict=True):
        problem = _field_problem(text, name, lo, hi, names)
        if problem:
            return f"cron {expression!r}: {problem}"
    return None
