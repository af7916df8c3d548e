"""Shared by history and the error log: paging checks and age-based cleanup."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel

from animus_protocol.envelope import InvalidInputError
from animus_protocol.timeutil import format_rfc3339, utc_now

if TYPE_CHECKING:
    from animus_core.hub import ServiceHub

__all__ = ["CleanupReport", "check_paging", "cleanup_older_than"]

_TABLES = frozenset({"history", "errors"})


class CleanupReport(BaseModel):
    dry_run: bool
    cutoff: str
    count: int
    deleted: bool = False


def check_paging(limit: int, offset: int = 0) -> None:
    if limit < 1 or offset < 0:
        raise InvalidInputError(
            f"invalid paging limit={limit} offset={offset}",
            hint="limit must be at least 1 and offset at least 0",
        )


def check_days(days: float) -> None:
    if days < 0:
        raise InvalidInputError(f"--days must be 0 or more, not {days}", hint="e.g. --days 30")


def cleanup_older_than(hub: ServiceHub, table: str, days: float, *, dry_run: bool) -> CleanupReport:
    """Count (dry run) or delete the rows of ``table`` whose ``ts`` is older than ``days``."""
    if table not in _TABLES:
        raise ValueError(f"not a table with a ts column: {table!r}")
    check_days(days)
    cutoff = format_rfc3339(utc_now() - timedelta(days=days))
    with hub.db.transaction() as conn:
        count = int(
            conn.execute(
                f"SELECT count(*) FROM {table} WHERE ts < ?",  # noqa: S608 - fixed table name
                (cutoff,),
            ).fetchone()[0]
        )
        if not dry_run and count:
            conn.execute(f"DELETE FROM {table} WHERE ts < ?", (cutoff,))  # noqa: S608
    return CleanupReport(
        dry_run=dry_run, cutoff=cutoff, count=count, deleted=not dry_run and count > 0
    )
