"""Durable state for Animus: atomic JSON files, file locks, the scoped runtime root, SQLite
workflow.db, JSONL event logs and the step journal.
"""

from __future__ import annotations

from importlib.metadata import version as _version

from animus_store.atomic import (
    JsonLoad,
    load_json_state,
    quarantine_file,
    read_json,
    read_json_or_default,
    write_json_atomic,
    write_json_if_missing,
    write_json_pretty,
    write_text_atomic,
)
from animus_store.db import Database, format_id, utc_now
from animus_store.errors import (
    CorruptStateError,
    LockTimeoutError,
    RedactionConfigError,
    SchemaVersionError,
    StaleFencingTokenError,
    StateWriteError,
    StepConflictError,
    StepNotFoundError,
    StoreError,
)
from animus_store.eventlog import EventLog
from animus_store.journal import StepJournal, StepRecord
from animus_store.locking import state_lock, update_json
from animus_store.migrate import (
    MigrationReport,
    import_legacy_workflows,
    migrate_all,
    migrate_repo_local_state,
    migrate_state_machines,
)
from animus_store.redact import REDACTED, Redactor
from animus_store.schema import SCHEMA_VERSION, requirement_priority_rank, task_priority_rank
from animus_store.scope_root import ScopeRoot, ensure_scope_root, git_origin, open_scope_root

__version__ = _version("animus-store")

__all__ = [
    "REDACTED",
    "SCHEMA_VERSION",
    "CorruptStateError",
    "Database",
    "EventLog",
    "JsonLoad",
    "LockTimeoutError",
    "MigrationReport",
    "RedactionConfigError",
    "Redactor",
    "SchemaVersionError",
    "ScopeRoot",
    "StaleFencingTokenError",
    "StateWriteError",
    "StepConflictError",
    "StepJournal",
    "StepNotFoundError",
    "StepRecord",
    "StoreError",
    "__version__",
    "ensure_scope_root",
    "format_id",
    "git_origin",
    "import_legacy_workflows",
    "load_json_state",
    "migrate_all",
    "migrate_repo_local_state",
    "migrate_state_machines",
    "open_scope_root",
    "quarantine_file",
    "read_json",
    "read_json_or_default",
    "requirement_priority_rank",
    "state_lock",
    "task_priority_rank",
    "update_json",
    "utc_now",
    "write_json_atomic",
    "write_json_if_missing",
    "write_json_pretty",
    "write_text_atomic",
]
