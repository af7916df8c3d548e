"""log_storage_backend kind: ``log_storage/*`` (reference §2.4). Durations are milliseconds."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from animus_plugin_protocol._wire import WireModel

__all__ = [
    "NOTIFY_EVENT",
    "LogEntry",
    "LogLevelName",
    "LogQuery",
    "LogQueryResult",
    "LogSource",
    "LogStorageEvent",
    "LogStorageSchema",
    "LogStoreParams",
    "LogStoreResult",
    "LogTailAck",
    "SupportsFiltering",
]

NOTIFY_EVENT = "log_storage/event"


class LogLevelName(StrEnum):
    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


class LogSource(StrEnum):
    DAEMON = "daemon"
    PLUGIN = "plugin"
    CLI = "cli"
    WORKFLOW = "workflow"


class LogEntry(WireModel):
    id: str
    ts: str
    level: LogLevelName
    source: LogSource
    source_name: str | None = None
    target: str
    message: str
    fields: Any = None


class LogStoreParams(WireModel):
    entries: list[LogEntry]


class LogStoreResult(WireModel):
    stored: int = Field(ge=0)


class LogQuery(WireModel):
    min_level: LogLevelName | None = None
    source: LogSource | None = None
    source_name: str | None = None
    target_glob: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int | None = Field(default=None, ge=0)
    cursor: str | None = None
    follow: bool = False


class LogQueryResult(WireModel):
    entries: list[LogEntry] = Field(default_factory=list)
    next_cursor: str | None = None


class LogTailAck(WireModel):
    tailing: bool = True


class LogStorageEvent(WireModel):
    """``log_storage/event`` params: ``{id: <tail request id>, entry}`` or a terminal ``error``."""

    id: int | str
    entry: LogEntry | None = None
    error: Any = None


class SupportsFiltering(WireModel):
    by_level: bool = False
    by_source: bool = False
    by_target: bool = False
    by_time_range: bool = False
    by_glob: bool = False


class LogStorageSchema(WireModel):
    supports_query: bool = False
    supports_tail: bool = False
    supports_dedup: bool = False
    supports_filtering: SupportsFiltering = Field(default_factory=SupportsFiltering)
    max_query_window: int | None = Field(default=None, ge=0)
    retention_hint: int | None = Field(default=None, ge=0)
