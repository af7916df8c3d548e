from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from animus_store import (
    Database,
    StaleFencingTokenError,
    StateWriteError,
    StepConflictError,
    StepJournal,
    StepNotFoundError,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "workflow.db")
    yield database
    database.close()


def test_begin_commit_and_replay_returns_the_committed_step(db: Database) -> None:
    journal = StepJournal(db)
    token = db.acquire_fencing_token("daemon-a")
    step = journal.begin("run-1", "implement", 0, "spawn-agent", "run-1/0/spawn", token)
    assert step.status == "intent"
    assert not step.committed
    assert step.prior_status is None
    assert journal.pending_for_run("run-1") == [step]
    done = journal.commit("run-1", 0, {"session": "s-1", "exit": 0}, token)
    assert done.committed
    assert done.result == {"session": "s-1", "exit": 0}
    assert journal.pending_for_run("run-1") == []

    replay = journal.begin("run-1", "implement", 0, "spawn-agent", "run-1/0/spawn", token)
    assert replay.committed
    assert replay.result == {"session": "s-1", "exit": 0}
    assert replay.attempt == 1
    # Committing twice is harmless and changes nothing.
    assert journal.commit("run-1", 0, {"other": True}, token).result == {
        "session": "s-1",
        "exit": 0,
    }


def test_stale_token_cannot_commit_and_new_owner_resumes(db: Database) -> None:
    journal = StepJournal(db)
    old = db.acquire_fencing_token("daemon-a")
    journal.begin("run-1", "merge", 3, "merge", "run-1/3/merge", old)
    new = db.acquire_fencing_token("daemon-b")  # daemon-a is now a zombie
    with pytest.raises(StaleFencingTokenError, match=r"held by daemon-b"):
        journal.commit("run-1", 3, {"merged": True}, old)
    with pytest.raises(StaleFencingTokenError):
        journal.begin("run-1", "merge", 4, "push", "run-1/4/push", old)
    (pending,) = journal.pending_for_run("run-1")
    assert pending.status == "intent"
    resumed = journal.begin("run-1", "merge", 3, "merge", "run-1/3/merge", new)
    assert resumed.interrupted
    assert resumed.attempt == 2
    assert journal.commit("run-1", 3, {"merged": True}, new).committed


def test_replay_mismatch_is_refused(db: Database) -> None:
    journal = StepJournal(db)
    token = db.acquire_fencing_token("d")
    journal.begin("run-1", "p", 0, "spawn-agent", "k0", token)
    with pytest.raises(StepConflictError, match="recorded as 'spawn-agent'"):
        journal.begin("run-1", "p", 0, "push", "k0", token)
    with pytest.raises(StepConflictError, match="already used by step 0 of run run-1"):
        journal.begin("run-2", "p", 0, "spawn-agent", "k0", token)


def test_fail_then_retry_and_errors(db: Database) -> None:
    journal = StepJournal(db)
    token = db.acquire_fencing_token("d")
    with pytest.raises(StepNotFoundError, match="no recorded intent"):
        journal.commit("run-9", 0, None, token)
    journal.begin("run-9", "p", 0, "commit", "run-9/0", token)
    failed = journal.fail("run-9", 0, {"message": "git refused"}, token)
    assert failed.status == "failed"
    assert failed.error == {"message": "git refused"}
    with pytest.raises(StepConflictError, match="not 'intent'"):
        journal.commit("run-9", 0, None, token)
    again = journal.begin("run-9", "p", 0, "commit", "run-9/0", token)
    assert again.prior_status == "failed"
    assert not again.interrupted
    with pytest.raises(StateWriteError, match="not JSON-serializable"):
        journal.commit("run-9", 0, {"x": object()}, token)
    assert journal.get("run-9", 0) == again.__class__(**{**again.__dict__, "prior_status": None})
    journal.commit("run-9", 0, "ok", token)
    with pytest.raises(StepConflictError, match="already committed"):
        journal.fail("run-9", 0, "late", token)
    with pytest.raises(ValueError, match="non-empty"):
        journal.begin("", "p", 1, "x", "y", token)
    assert [s.ordinal for s in journal.steps_for_run("run-9")] == [0]


def test_abandon(db: Database) -> None:
    journal = StepJournal(db)
    token = db.acquire_fencing_token("d")
    journal.begin("r", "p", 0, "push", "r/0", token)
    assert journal.abandon("r", 0, "operator said so", token).error == {
        "reason": "operator said so"
    }
    assert journal.pending_for_run("r") == []


def test_store_errors_carry_envelope_codes(tmp_path: Path) -> None:
    from animus_protocol.envelope import ConflictError, ExitCode, UnavailableError
    from animus_store import LockTimeoutError, SchemaVersionError, StoreError

    stale = StaleFencingTokenError("stale")
    assert isinstance(stale, ConflictError)
    assert isinstance(stale, StoreError)
    assert (stale.code, stale.exit_code) == ("conflict", ExitCode.CONFLICT)
    lock = LockTimeoutError(tmp_path / "x.lock", 1.0)
    assert isinstance(lock, UnavailableError)
    assert lock.to_payload()["details"]["lock"] == str(tmp_path / "x.lock")
    assert SchemaVersionError("new").exit_code == ExitCode.UNAVAILABLE
    assert StepNotFoundError("x").code == "not_found"
    assert StateWriteError("x").code == "internal"
