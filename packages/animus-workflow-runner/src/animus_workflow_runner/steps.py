"""Durable steps: intent in the step journal before a side effect, the result after.

Each step of a run has a deterministic ordinal (the run replays the same sequence of steps
from its last phase boundary) and the idempotency key ``<run>:<phase>:<attempt>:<step>``.
``ANIMUS_TEST_KILL_AT=<step>.<intent|effect|commit>:<n>`` (honoured only with
``ANIMUS_TESTING=1``) SIGKILLs the process at the n-th time this process reaches that
boundary: the crash tests use it to stop a runner at every step boundary in turn.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from animus_store import StepJournal, StepRecord

__all__ = ["KillSwitch", "StepContext", "step_key"]


def step_key(run_id: str, phase_id: str, attempt: int, step: str) -> str:
    return f"{run_id}:{phase_id}:{attempt}:{step}"


class KillSwitch:
    """The test-only crash points (inert unless ``ANIMUS_TESTING=1``)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        spec = env.get("ANIMUS_TEST_KILL_AT", "") if env.get("ANIMUS_TESTING") == "1" else ""
        self.target: tuple[str, int] | None = None
        if spec:
            name, _, count = spec.rpartition(":")
            if name and count.isdigit():
                self.target = (name, int(count))
            else:
                self.target = (spec, 1)
        self.seen: Counter[str] = Counter()

    def point(self, name: str) -> None:
        if self.target is None:
            return
        self.seen[name] += 1
        if self.target == (name, self.seen[name]):
            os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class StepContext:
    """Journal access of one runner process (its own fencing scope per run)."""

    journal: StepJournal
    run_id: str
    fencing_token: int
    kill: KillSwitch

    def begin(self, phase_id: str, ordinal: int, attempt: int, name: str) -> StepRecord:
        record = self.journal.begin(
            self.run_id,
            phase_id,
            ordinal,
            name,
            step_key(self.run_id, phase_id, attempt, f"{name}#{ordinal}"),
            self.fencing_token,
        )
        if not record.committed:
            self.kill.point(f"{name}.intent")
        return record

    def effect_done(self, name: str) -> None:
        self.kill.point(f"{name}.effect")

    def commit(self, name: str, ordinal: int, result: Any) -> StepRecord:
        record = self.journal.commit(self.run_id, ordinal, result, self.fencing_token)
        self.kill.point(f"{name}.commit")
        return record

    def fail(self, ordinal: int, error: Any) -> StepRecord:
        return self.journal.fail(self.run_id, ordinal, error, self.fencing_token)
