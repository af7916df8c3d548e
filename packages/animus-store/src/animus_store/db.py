"""``workflow.db``: SQLite in WAL mode with a versioned schema.

Connections: one per thread (``threading.local``), opened lazily and closed by
:meth:`Database.close`. SQLite serializes writers itself; ``BEGIN IMMEDIATE`` takes the write
lock at the start of a transaction, so a writer waits (up to ``busy_timeout``) instead of
failing half-way when it upgrades a read to a write. Readers never block writers in WAL mode.

Durability: ``synchronous=FULL`` by default, so a committed transaction survives a power
loss, not only a process crash (``NORMAL`` in WAL mode may lose the last commits on power
loss but never corrupts). Pass ``synchronous="NORMAL"`` for throw-away databases.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from animus_store._legacy_v0 import copy_stashed_rows, stash_unversioned_tables
from animus_store.errors import SchemaVersionError, StoreError
from animus_store.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["DEFAULT_BUSY_TIMEOUT_MS", "Database", "format_id", "utc_now"]

DEFAULT_BUSY_TIMEOUT_MS = 5000
_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
_COUNTER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def utc_now() -> str:
    """Current UTC time as RFC 3339 with microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def format_id(kind: str, number: int) -> str:
    """``TASK`` and 7 → ``TASK-007`` (at least three digits, more when needed)."""
    return f"{kind}-{number:03d}"


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.conn: sqlite3.Connection | None = None
        self.depth = 0
        self.writing = False


class Database:
    """A project's ``workflow.db``. Migrates on open; safe to share between threads."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "FULL",
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> None:
        level = synchronous.strip().upper()
        if level not in _SYNCHRONOUS:
            raise ValueError(
                f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, not {synchronous!r}"
            )
        if busy_timeout_ms < 0:
            raise ValueError(f"busy_timeout_ms must be >= 0, not {busy_timeout_ms}")
        self.path = Path(path)
        self.synchronous = level
        self.busy_timeout_ms = busy_timeout_ms
        self._local = _ThreadState()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        except BaseException:
            self.close()
            raise

    # -- connections -------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_ms / 1000,
                isolation_level=None,
                # Each thread gets its own connection (threading.local); this only lets
                # close() release every connection from whichever thread calls it.
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            self._ensure_wal(conn)
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{self.path} is not a usable SQLite database: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _ensure_wal(self, conn: sqlite3.Connection) -> None:
        """Switch to WAL (persistent, so done once per file).

        The switch needs an exclusive moment, and SQLite does not run the busy handler for
        it, so a fresh database opened by several processes at once retries here for up to
        ``busy_timeout``.
        """
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        while True:
            try:
                mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"database {self.path} stayed locked for {self.busy_timeout_ms} ms "
                        "while switching to WAL mode; another process holds it"
                    ) from exc
                time.sleep(0.01)
                continue
            if mode != "wal":
                raise StoreError(f"database {self.path} refused WAL mode (got {mode})")
            return

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        if self._closed:
            raise StoreError(f"database {self.path} is closed")
        if self._pid != os.getpid():
            # A forked child must never use its parent's SQLite connections: start afresh
            # (the inherited ones are dropped, not closed, as closing could disturb the
            # parent's locks).
            self._pid = os.getpid()
            self._local = _ThreadState()
            self._all = []
        conn = self._local.conn
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection. Further use raises StoreError."""
        self._closed = True
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local.conn = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), committed on success, else rolled back.

        Nested use on one thread becomes a savepoint inside the outer transaction.
        """
        conn = self.connection()
        state = self._local
        if state.depth and not state.writing:
            raise StoreError(
                "cannot write inside Database.read(); open transaction() for the whole unit "
                "of work instead (a read snapshot cannot safely upgrade to a write)"
            )
        if state.depth:
            name = f"sp{state.depth}"
            conn.execute(f"SAVEPOINT {name}")
            state.depth += 1
            try:
                yield conn
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            else:
                conn.execute(f"RELEASE {name}")
            finally:
                state.depth -= 1
            return
        conn.execute("BEGIN IMMEDIATE")
        state.depth = 1
        state.writing = True
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            state.depth = 0
            state.writing = False

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees one consistent snapshot."""
        conn = self.connection()
        state = self._local
        if state.depth:
            yield conn
            return
        conn.execute("BEGIN DEFERRED")
        state.depth = 1
        try:
            yield conn
        finally:
            state.depth = 0
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    # -- schema ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self.read() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self.transaction() as conn:
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"{self.path} has schema version {current}, newer than this Animus "
                    f"understands ({SCHEMA_VERSION}); upgrade Animus (the database is never "
                    "downgraded)"
                )
            stashed = stash_unversioned_tables(conn) if current == 0 else []
            for migration in MIGRATIONS:
                if migration.version <= current:
                    continue
                for statement in migration.statements:
                    conn.execute(statement)
                if migration.version == 1 and stashed:
                    copy_stashed_rows(conn, stashed)
                conn.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, utc_now()),
                )
                conn.execute(f"PRAGMA user_version = {int(migration.version)}")

    def pragma(self, name: str) -> object:
        """Read one PRAGMA value of this thread's connection (for diagnostics and tests)."""
        if not name.replace("_", "").isalpha():
            raise ValueError(f"not a pragma name: {name!r}")
        row = self.connection().execute(f"PRAGMA {name}").fetchone()
        return None if row is None else row[0]

    # -- counters ---------------------------------------------------------------------------

    def next_number(self, name: str) -> int:
        """Atomically increment counter ``name`` (starting at 1) and return the new value."""
        if not _COUNTER_NAME.match(name):
            raise ValueError(f"invalid counter name {name!r}")
        with self.transaction() as conn:
            row = conn.execute(
                "INSERT INTO counters(name, value) VALUES (?, 1) "
                "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
                (name,),
            ).fetchone()
            return int(row[0])

    def next_id(self, kind: str) -> str:
        """The next id of a kind: ``next_id("TASK")`` → ``TASK-001``, ``TASK-002``, ..."""
        return format_id(kind, self.next_number(kind))

    def ensure_counter_at_least(self, name: str, value: int) -> int:
        """Raise counter ``name`` to ``value`` if it is lower (after importing ids)."""
        if not _COUNTER_NAME.match(name):
            raise ValueError(f"invalid counter name {name!r}")
        with self.transaction() as conn:
            row = conn.execute(
                "INSERT INTO counters(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value) "
                "RETURNING value",
                (name, value),
            ).fetchone()
            return int(row[0])

    # -- fencing -------------------------------------------------------------------------------

    def acquire_fencing_token(self, owner: str, scope: str = "daemon") -> int:
        """Take ownership of ``scope``: a new, strictly larger token. Older ones go stale."""
        with self.transaction() as conn:
            row = conn.execute(
                "INSERT INTO fencing(scope, owner, token, acquired_at) VALUES (?, ?, 1, ?) "
                "ON CONFLICT(scope) DO UPDATE SET owner = excluded.owner, token = token + 1, "
                "acquired_at = excluded.acquired_at RETURNING token",
                (scope, owner, utc_now()),
            ).fetchone()
            return int(row[0])

    def current_fencing_token(self, scope: str = "daemon") -> int:
        """The scope's current token (0 when nobody ever acquired it)."""
        with self.read() as conn:
            row = conn.execute("SELECT token FROM fencing WHERE scope = ?", (scope,)).fetchone()
            return 0 if row is None else int(row[0])
