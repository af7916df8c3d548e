"""The versioned schema of ``workflow.db``: forward-only migrations.

Every entity table keeps the whole entity as JSON text in ``json`` (the single source of
truth) plus summary columns that exist only to be filtered, sorted and indexed. A migration
is a list of statements applied in one transaction together with the new
``PRAGMA user_version``; a database newer than :data:`SCHEMA_VERSION` is refused.

Ordering conventions: ``priority_rank`` sorts ascending, most urgent first
(:data:`TASK_PRIORITY_RANK`, :data:`REQUIREMENT_PRIORITY_RANK`). Timestamps are RFC 3339
UTC strings, which sort correctly as text.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MIGRATIONS",
    "QUEUE_STATUSES",
    "REQUIREMENT_PRIORITY_RANK",
    "SCHEMA_VERSION",
    "STEP_STATUSES",
    "TASK_PRIORITY_RANK",
    "Migration",
    "requirement_priority_rank",
    "task_priority_rank",
]

TASK_PRIORITY_RANK: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}
REQUIREMENT_PRIORITY_RANK: dict[str, int] = {"must": 0, "should": 1, "could": 2, "wont": 3}
QUEUE_STATUSES = ("pending", "assigned", "held", "completed", "failed", "cancelled", "dropped")
STEP_STATUSES = ("intent", "committed", "failed", "abandoned")


def task_priority_rank(priority: str | None) -> int:
    """Rank of a task or dispatch priority; unknown or missing sorts as medium."""
    return TASK_PRIORITY_RANK.get((priority or "medium").strip().lower(), 2)


def requirement_priority_rank(priority: str | None) -> int:
    """Rank of a MoSCoW priority; unknown or missing sorts as ``should`` (the default)."""
    return REQUIREMENT_PRIORITY_RANK.get((priority or "should").strip().lower(), 1)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


_V1 = (
    """CREATE TABLE schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TEXT NOT NULL
    )""",
    # Workflow runs.
    """CREATE TABLE workflows (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        task_id TEXT,
        subject_key TEXT,
        workflow_ref TEXT,
        phase_id TEXT,
        failed_at TEXT,
        failure_reason TEXT,
        started_at TEXT,
        completed_at TEXT,
        updated_at TEXT,
        json TEXT NOT NULL
    )""",
    "CREATE INDEX idx_workflows_status ON workflows(status)",
    "CREATE INDEX idx_workflows_status_failed_at ON workflows(status, failed_at)",
    "CREATE INDEX idx_workflows_started_at ON workflows(started_at)",
    "CREATE INDEX idx_workflows_task_id ON workflows(task_id)",
    "CREATE INDEX idx_workflows_subject_status ON workflows(subject_key, status)",
    """CREATE TABLE checkpoints (
        workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        timestamp TEXT NOT NULL,
        reason TEXT NOT NULL,
        phase_id TEXT,
        machine_state TEXT,
        status TEXT,
        snapshot_json TEXT,
        PRIMARY KEY (workflow_id, number)
    )""",
    # Tasks: `number` is the numeric part of TASK-NNN, for ordering.
    """CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        number INTEGER,
        status TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        priority TEXT,
        priority_rank INTEGER NOT NULL DEFAULT 2,
        task_type TEXT,
        assignee TEXT,
        created_at TEXT,
        updated_at TEXT,
        completed_at TEXT,
        blocked_reason TEXT,
        blocked_at TEXT,
        deadline TEXT,
        json TEXT NOT NULL
    )""",
    "CREATE INDEX idx_tasks_status ON tasks(status)",
    "CREATE INDEX idx_tasks_completed_at ON tasks(completed_at)",
    "CREATE INDEX idx_tasks_status_updated ON tasks(status, updated_at)",
    "CREATE INDEX idx_tasks_status_rank_number ON tasks(status, priority_rank, number)",
    "CREATE INDEX idx_tasks_number ON tasks(number)",
    "CREATE INDEX idx_tasks_type ON tasks(task_type)",
    """CREATE TABLE task_tags (
        task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (task_id, tag)
    ) WITHOUT ROWID""",
    "CREATE INDEX idx_task_tags_tag ON task_tags(tag, task_id)",
    """CREATE TABLE task_dependencies (
        task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        depends_on TEXT NOT NULL,
        dependency_type TEXT NOT NULL DEFAULT 'blocked-by',
        PRIMARY KEY (task_id, depends_on, dependency_type)
    ) WITHOUT ROWID""",
    "CREATE INDEX idx_task_dependencies_depends_on ON task_dependencies(depends_on)",
    # Requirements: `number` is the numeric part of REQ-NNN.
    """CREATE TABLE requirements (
        id TEXT PRIMARY KEY,
        number INTEGER,
        status TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        priority TEXT,
        priority_rank INTEGER NOT NULL DEFAULT 1,
        category TEXT,
        requirement_type TEXT,
        created_at TEXT,
        updated_at TEXT,
        json TEXT NOT NULL
    )""",
    "CREATE INDEX idx_requirements_status ON requirements(status)",
    "CREATE INDEX idx_requirements_priority ON requirements(priority)",
    "CREATE INDEX idx_requirements_updated_at ON requirements(updated_at)",
    "CREATE INDEX idx_requirements_number ON requirements(number)",
    """CREATE TABLE requirement_tags (
        requirement_id TEXT NOT NULL REFERENCES requirements(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (requirement_id, tag)
    ) WITHOUT ROWID""",
    "CREATE INDEX idx_requirement_tags_tag ON requirement_tags(tag, requirement_id)",
    # The dispatch queue. `seq` is a monotonic tie-breaker (FIFO within a priority).
    f"""CREATE TABLE queue_entries (
        entry_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        subject_id TEXT NOT NULL,
        subject_key TEXT NOT NULL,
        subject_kind TEXT NOT NULL,
        task_id TEXT,
        workflow_ref TEXT,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ({_in(QUEUE_STATUSES)})),
        priority_rank INTEGER NOT NULL DEFAULT 2,
        trigger_source TEXT,
        requested_at TEXT NOT NULL,
        enqueued_at TEXT NOT NULL,
        assigned_at TEXT,
        held_at TEXT,
        hold_reason TEXT,
        run_at TEXT,
        workflow_id TEXT,
        completed_at TEXT,
        dispatch_json TEXT NOT NULL
    )""",
    # Lease: pending entries in priority-then-FIFO order, read straight off this index
    # (equality on status, then the sort order), so no sort step however long the queue.
    """CREATE INDEX idx_queue_status_order
        ON queue_entries(status, priority_rank, requested_at, seq)""",
    "CREATE INDEX idx_queue_subject_status ON queue_entries(subject_key, status)",
    "CREATE INDEX idx_queue_status_seq ON queue_entries(status, seq)",
    "CREATE INDEX idx_queue_workflow_id ON queue_entries(workflow_id)",
    # Durable steps: intent before acting, result after.
    f"""CREATE TABLE step_journal (
        run_id TEXT NOT NULL,
        phase_id TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        name TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ({_in(STEP_STATUSES)})),
        fencing_token INTEGER NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 1,
        intent_at TEXT NOT NULL,
        committed_at TEXT,
        result_json TEXT,
        error_json TEXT,
        PRIMARY KEY (run_id, ordinal)
    )""",
    "CREATE INDEX idx_step_journal_run_status ON step_journal(run_id, status)",
    # History and recorded errors.
    """CREATE TABLE history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        event_type TEXT NOT NULL,
        task_id TEXT,
        workflow_id TEXT,
        subject_key TEXT,
        message TEXT NOT NULL DEFAULT '',
        json TEXT NOT NULL
    )""",
    "CREATE INDEX idx_history_ts ON history(ts)",
    "CREATE INDEX idx_history_task_ts ON history(task_id, ts)",
    "CREATE INDEX idx_history_workflow_ts ON history(workflow_id, ts)",
    """CREATE TABLE errors (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        category TEXT NOT NULL,
        severity TEXT NOT NULL DEFAULT 'error',
        task_id TEXT,
        workflow_id TEXT,
        message TEXT NOT NULL,
        resolved_at TEXT,
        json TEXT NOT NULL
    )""",
    "CREATE INDEX idx_errors_ts ON errors(ts)",
    "CREATE INDEX idx_errors_task_id ON errors(task_id)",
    "CREATE INDEX idx_errors_workflow_id ON errors(workflow_id)",
    # Id allocation (TASK-NNN, REQ-NNN) and the one-daemon-per-scope fencing epoch.
    """CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE fencing (
        scope TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        token INTEGER NOT NULL,
        acquired_at TEXT NOT NULL
    ) WITHOUT ROWID""",
)

MIGRATIONS: tuple[Migration, ...] = (Migration(1, "initial schema", _V1),)

SCHEMA_VERSION = MIGRATIONS[-1].version
