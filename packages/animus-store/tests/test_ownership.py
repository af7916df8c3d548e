from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from animus_store import Database, LockTimeoutError, StaleFencingTokenError, StepJournal
from animus_store.ownership import claim_scope

OWNER = """
    import sys, time
    from animus_store import Database
    from animus_store.ownership import claim_scope
    db = Database(sys.argv[2])
    claim = claim_scope(sys.argv[1], db, "child")
    print(claim.token, flush=True)
    time.sleep(120)
"""


def test_second_owner_is_refused_until_the_first_dies(
    tmp_path: Path, spawn: Callable[..., Any]
) -> None:
    lock, db_path = tmp_path / "daemon" / "daemon.lock", tmp_path / "workflow.db"
    with Database(db_path) as db:
        first = spawn(OWNER, str(lock), str(db_path))
        assert first.stdout is not None
        token = int(first.stdout.readline())
        assert token == 1
        journal = StepJournal(db)
        journal.begin("run", "p", 0, "push", "run/0", token)
        with pytest.raises(LockTimeoutError, match=r"daemon\.lock"):
            claim_scope(lock, db, "me", timeout=0.05)
        os.kill(first.pid, signal.SIGKILL)  # the kernel drops a dead owner's lock
        first.communicate(timeout=30)
        with claim_scope(lock, db, "me", timeout=10) as claim:
            assert claim.held
            assert claim.token == 2
            with pytest.raises(StaleFencingTokenError):
                journal.commit("run", 0, {}, token)
            assert journal.begin("run", "p", 0, "push", "run/0", claim.token).interrupted
        assert not claim.held
        again = claim_scope(lock, db, "again")
        assert again.token == 3
        again.release()
        with pytest.raises(ValueError, match="owner must name"):
            claim_scope(lock, db, "")
