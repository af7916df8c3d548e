"""What a caller asks the runner for, and what it gets back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EXIT_CODES", "ExecuteRequest", "RunOutcome", "Stop"]

# Runner process exit codes (the daemon's contract).
EXIT_CODES = {
    "completed": 0,
    "failed": 1,
    "escalated": 1,
    "merge_conflict": 1,
    "paused": 3,
    "manual_pending": 3,
    "cancelled": 4,
}


@dataclass
class ExecuteRequest:
    """What to run: a new run (subject + workflow) or an existing one (``workflow_id``)."""

    project_root: Path
    task_id: str | None = None
    subject: str | None = None  # KIND:ID
    workflow_ref: str | None = None
    workflow_id: str | None = None
    resume: bool = False
    force: bool = False
    input: Any = None
    vars: dict[str, str] = field(default_factory=dict)
    events_socket: str | None = None
    env: Mapping[str, str] | None = None
    listener: Callable[[dict[str, Any]], None] | None = None
    run_id: str | None = None  # a new run's id chosen by the caller (the CLI prints it first)
    session_host: Any = None  # a shared SessionHost (warm providers); not closed by the run


@dataclass
class RunOutcome:
    workflow_id: str
    status: (
        str  # completed | failed | escalated | merge_conflict | paused | manual_pending | cancelled
    )
    exit_code: int
    reason: str | None = None
    machine_state: str | None = None


class Stop(Exception):
    """Leaves the loop with an outcome already recorded on the run."""

    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome
