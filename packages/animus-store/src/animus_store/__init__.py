"""Durable state for Animus: atomic JSON files, file locks, the scoped runtime root, SQLite
workflow.db, JSONL event logs and the step journal.

Names are imported lazily on first use, so ``import animus_store.db`` (or a CLI command that
needs one helper) does not pay for every module.
"""

from __future__ import annotations

import importlib
from importlib.metadata import version as _version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from animus_store.ownership import ScopeClaim, claim_scope
    from animus_store.redact import REDACTED, Redactor
    from animus_store.schema import SCHEMA_VERSION, requirement_priority_rank, task_priority_rank
    from animus_store.scope_root import ScopeRoot, ensure_scope_root, git_origin, open_scope_root

__version__ = _version("animus-store")

_LAZY: dict[str, str] = {
    "ScopeClaim": "animus_store.ownership",
    "claim_scope": "animus_store.ownership",
    "CorruptStateError": "animus_store.errors",
    "Database": "animus_store.db",
    "EventLog": "animus_store.eventlog",
    "JsonLoad": "animus_store.atomic",
    "LockTimeoutError": "animus_store.errors",
    "MigrationReport": "animus_store.migrate",
    "REDACTED": "animus_store.redact",
    "RedactionConfigError": "animus_store.errors",
    "Redactor": "animus_store.redact",
    "SCHEMA_VERSION": "animus_store.schema",
    "SchemaVersionError": "animus_store.errors",
    "ScopeRoot": "animus_store.scope_root",
    "StaleFencingTokenError": "animus_store.errors",
    "StateWriteError": "animus_store.errors",
    "StepConflictError": "animus_store.errors",
    "StepJournal": "animus_store.journal",
    "StepNotFoundError": "animus_store.errors",
    "StepRecord": "animus_store.journal",
    "StoreError": "animus_store.errors",
    "ensure_scope_root": "animus_store.scope_root",
    "format_id": "animus_store.db",
    "git_origin": "animus_store.scope_root",
    "import_legacy_workflows": "animus_store.migrate",
    "load_json_state": "animus_store.atomic",
    "migrate_all": "animus_store.migrate",
    "migrate_repo_local_state": "animus_store.migrate",
    "migrate_state_machines": "animus_store.migrate",
    "open_scope_root": "animus_store.scope_root",
    "quarantine_file": "animus_store.atomic",
    "read_json": "animus_store.atomic",
    "read_json_or_default": "animus_store.atomic",
    "requirement_priority_rank": "animus_store.schema",
    "state_lock": "animus_store.locking",
    "task_priority_rank": "animus_store.schema",
    "update_json": "animus_store.locking",
    "utc_now": "animus_store.db",
    "write_json_atomic": "animus_store.atomic",
    "write_json_if_missing": "animus_store.atomic",
    "write_json_pretty": "animus_store.atomic",
    "write_text_atomic": "animus_store.atomic",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'animus_store' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
    "ScopeClaim",
    "ScopeRoot",
    "StaleFencingTokenError",
    "StateWriteError",
    "StepConflictError",
    "StepJournal",
    "StepNotFoundError",
    "StepRecord",
    "StoreError",
    "__version__",
    "claim_scope",
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
