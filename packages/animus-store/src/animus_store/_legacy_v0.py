"""Adopting an unversioned ``workflow.db`` written by the original implementation.

Its tables (``workflows``, ``checkpoints``, ``tasks``, ``requirements``) predate our schema
versioning. At the first migration they are renamed to ``legacy_v0_<name>`` (their indexes
dropped, the rows untouched), the current schema is created, and every row whose entity JSON
is plain text is copied across. Rows stored as compressed blobs stay in the ``legacy_v0_``
tables, never deleted, for an export tool to recover.
"""

from __future__ import annotations

import sqlite3

__all__ = ["LEGACY_TABLES", "copy_stashed_rows", "stash_unversioned_tables"]

LEGACY_TABLES = ("workflows", "checkpoints", "tasks", "requirements")
_JSON_COLUMN = {"checkpoints": "snapshot_json"}


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")]


def stash_unversioned_tables(conn: sqlite3.Connection) -> list[str]:
    """Rename pre-existing legacy tables out of the way; returns the tables stashed."""
    existing = {
        str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    stashed = []
    for table in LEGACY_TABLES:
        if table not in existing:
            continue
        indexes = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        ).fetchall()
        for (index,) in indexes:
            conn.execute(f'DROP INDEX "{index}"')
        conn.execute(f'ALTER TABLE "{table}" RENAME TO "legacy_v0_{table}"')
        stashed.append(table)
    return stashed


def copy_stashed_rows(conn: sqlite3.Connection, stashed: list[str]) -> None:
    """Copy rows with plain-JSON entities from ``legacy_v0_<table>`` into ``<table>``."""
    for table in stashed:
        old = f"legacy_v0_{table}"
        json_col = _JSON_COLUMN.get(table, "json")
        old_cols = set(_columns(conn, old))
        new_cols = _columns(conn, table)
        common = [c for c in new_cols if c in old_cols]
        if json_col not in common:
            continue
        select = [f'"{c}"' if c != json_col else f'CAST("{c}" AS TEXT)' for c in common]
        insert_cols = list(common)
        if table in {"tasks", "requirements"} and "number" not in old_cols:
            insert_cols.append("number")
            select.append("CAST(substr(id, instr(id, '-') + 1) AS INTEGER)")
        # Plain JSON starts with '{' or '['; anything else (zstd frames) stays behind.
        conn.execute(
            f'INSERT OR IGNORE INTO "{table}"({", ".join(insert_cols)}) '  # noqa: S608 - names come from PRAGMA table_info, not input
            f'SELECT {", ".join(select)} FROM "{old}" '
            f"WHERE substr(CAST(\"{json_col}\" AS TEXT), 1, 1) IN ('{{', '[')"
        )
