"""The step journal: intent before a side effect, result after, fenced by the scope owner.

``begin`` records the intent (or, on replay, returns the recorded step: a committed step is
never run again). ``commit`` / ``fail`` record the outcome. Every write checks the fencing
token against the scope's current one, so a zombie daemon or runner that lost ownership
cannot record anything.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from animus_store.db import Database, utc_now
from animus_store.errors import (
    StaleFencingTokenError,
    StateWriteError,
    StepConflictError,
    StepNotFoundError,
)

__all__ = ["StepJournal", "StepRecord"]


@dataclass(frozen=True)
class StepRecord:
    """One journal row. ``prior_status`` is set by ``begin`` when the slot already existed."""

    run_id: str
    phase_id: str
    ordinal: int
    name: str
    idempotency_key: str
    status: str
    fencing_token: int
    attempt: int
    intent_at: str
    committed_at: str | None
    result: Any
    error: Any
    prior_status: str | None = None

    @property
    def committed(self) -> bool:
        return self.status == "committed"

    @property
    def interrupted(self) -> bool:
        """A previous attempt recorded intent and never its outcome: it may have acted."""
        return self.prior_status == "intent"


def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StateWriteError(f"step {what} is not JSON-serializable: {exc}") from exc


def _record(row: sqlite3.Row, prior_status: str | None = None) -> StepRecord:
    return StepRecord(
        run_id=row["run_id"],
        phase_id=row["phase_id"],
        ordinal=int(row["ordinal"]),
        name=row["name"],
        idempotency_key=row["idempotency_key"],
        status=row["status"],
        fencing_token=int(row["fencing_token"]),
        attempt=int(row["attempt"]),
        intent_at=row["intent_at"],
        committed_at=row["committed_at"],
        result=None if row["result_json"] is None else json.loads(row["result_json"]),
        error=None if row["error_json"] is None else json.loads(row["error_json"]),
        prior_status=prior_status,
    )


class StepJournal:
    """Durable steps of workflow runs in ``workflow.db``."""

    def __init__(self, db: Database, *, fencing_scope: str = "daemon") -> None:
        self.db = db
        self.fencing_scope = fencing_scope

    def _check_token(self, conn: sqlite3.Connection, token: int, action: str) -> None:
        row = conn.execute(
            "SELECT token, owner FROM fencing WHERE scope = ?", (self.fencing_scope,)
        ).fetchone()
        current = 0 if row is None else int(row["token"])
        if token != current:
            owner = "nobody" if row is None else row["owner"]
            raise StaleFencingTokenError(
                f"cannot {action}: fencing token {token} is not the current one ({current}, "
                f"held by {owner}) for scope {self.fencing_scope!r}; this process no longer "
                "owns the scope and must stop"
            )

    @staticmethod
    def _get(conn: sqlite3.Connection, run_id: str, ordinal: int) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM step_journal WHERE run_id = ? AND ordinal = ?", (run_id, ordinal)
        ).fetchone()
        return row

    def begin(  # noqa: PLR0917 - the journal's pinned positional signature
        self,
        run_id: str,
        phase_id: str,
        ordinal: int,
        name: str,
        idempotency_key: str,
        fencing_token: int,
    ) -> StepRecord:
        """Record the intent to run a step, before acting.

        If the slot ``(run_id, ordinal)`` was committed already, that record is returned and
        the caller must not act again (check ``record.committed``). A slot recorded with a
        different name or key is a replay mismatch (StepConflictError). A slot left in
        ``intent`` / ``failed`` / ``abandoned`` starts a new attempt; ``record.interrupted``
        tells the caller a previous attempt may have acted.
        """
        if not run_id or not name or not idempotency_key:
            raise ValueError("run_id, name and idempotency_key must be non-empty")
        with self.db.transaction() as conn:
            existing = self._get(conn, run_id, ordinal)
            if existing is not None:
                if existing["name"] != name or existing["idempotency_key"] != idempotency_key:
                    raise StepConflictError(
                        f"step {ordinal} of run {run_id} was recorded as "
                        f"{existing['name']!r} (key {existing['idempotency_key']!r}), not "
                        f"{name!r} (key {idempotency_key!r}); the workflow changed under a "
                        "running run, so it cannot be replayed safely"
                    )
                if existing["status"] == "committed":
                    return _record(existing, prior_status="committed")
                self._check_token(conn, fencing_token, f"begin step {ordinal} of run {run_id}")
                conn.execute(
                    "UPDATE step_journal SET status = 'intent', fencing_token = ?, "
                    "attempt = attempt + 1, intent_at = ?, error_json = NULL "
                    "WHERE run_id = ? AND ordinal = ?",
                    (fencing_token, utc_now(), run_id, ordinal),
                )
                row = self._get(conn, run_id, ordinal)
                assert row is not None
                return _record(row, prior_status=existing["status"])
            self._check_token(conn, fencing_token, f"begin step {ordinal} of run {run_id}")
            other = conn.execute(
                "SELECT run_id, ordinal FROM step_journal WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
            if other is not None:
                raise StepConflictError(
                    f"idempotency key {idempotency_key!r} is already used by step "
                    f"{other['ordinal']} of run {other['run_id']}"
                )
            conn.execute(
                "INSERT INTO step_journal(run_id, phase_id, ordinal, name, idempotency_key, "
                "status, fencing_token, attempt, intent_at) "
                "VALUES (?, ?, ?, ?, ?, 'intent', ?, 1, ?)",
                (run_id, phase_id, ordinal, name, idempotency_key, fencing_token, utc_now()),
            )
            row = self._get(conn, run_id, ordinal)
            assert row is not None
            return _record(row)

    def _finish(
        self,
        *,
        run_id: str,
        ordinal: int,
        fencing_token: int,
        status: str,
        payload: Any,
    ) -> StepRecord:
        column = "result" if status == "committed" else "error"
        encoded = _dumps(payload, column)
        with self.db.transaction() as conn:
            row = self._get(conn, run_id, ordinal)
            if row is None:
                raise StepNotFoundError(
                    f"step {ordinal} of run {run_id} has no recorded intent; call begin first"
                )
            if row["status"] == "committed":
                if status == "committed":
                    return _record(row, prior_status="committed")
                raise StepConflictError(
                    f"step {ordinal} of run {run_id} is already committed; it cannot fail now"
                )
            action = f"record {status} for step {ordinal} of run {run_id}"
            self._check_token(conn, fencing_token, action)
            if int(row["fencing_token"]) != fencing_token:
                raise StaleFencingTokenError(
                    f"cannot {action}: the intent was recorded under token "
                    f"{row['fencing_token']}, not {fencing_token}"
                )
            if row["status"] != "intent":
                raise StepConflictError(
                    f"cannot {action}: its status is {row['status']!r}, not 'intent'"
                )
            result_json, error_json = (encoded, None) if column == "result" else (None, encoded)
            conn.execute(
                "UPDATE step_journal SET status = ?, result_json = ?, error_json = ?, "
                "committed_at = ? WHERE run_id = ? AND ordinal = ?",
                (status, result_json, error_json, utc_now(), run_id, ordinal),
            )
            updated = self._get(conn, run_id, ordinal)
            assert updated is not None
            return _record(updated)

    def commit(self, run_id: str, ordinal: int, result: Any, fencing_token: int) -> StepRecord:
        """Record a step's result. Committing a committed step again returns it unchanged."""
        return self._finish(
            run_id=run_id,
            ordinal=ordinal,
            fencing_token=fencing_token,
            status="committed",
            payload=result,
        )

    def fail(self, run_id: str, ordinal: int, error: Any, fencing_token: int) -> StepRecord:
        """Record that a step failed (it may be begun again)."""
        return self._finish(
            run_id=run_id,
            ordinal=ordinal,
            fencing_token=fencing_token,
            status="failed",
            payload=error,
        )

    def abandon(self, run_id: str, ordinal: int, reason: str, fencing_token: int) -> StepRecord:
        """Give up an interrupted step (operator decision); it may be begun again."""
        return self._finish(
            run_id=run_id,
            ordinal=ordinal,
            fencing_token=fencing_token,
            status="abandoned",
            payload={"reason": reason},
        )

    def get(self, run_id: str, ordinal: int) -> StepRecord | None:
        with self.db.read() as conn:
            row = self._get(conn, run_id, ordinal)
            return None if row is None else _record(row)

    def steps_for_run(self, run_id: str) -> list[StepRecord]:
        """Every step of a run in ordinal order."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM step_journal WHERE run_id = ? ORDER BY ordinal", (run_id,)
            ).fetchall()
        return [_record(r) for r in rows]

    def pending_for_run(self, run_id: str) -> list[StepRecord]:
        """Steps whose intent was recorded but not their outcome (possibly half-done)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM step_journal WHERE run_id = ? AND status = 'intent' "
                "ORDER BY ordinal",
                (run_id,),
            ).fetchall()
        return [_record(r) for r in rows]
