"""notifier kind: ``notifier/notify``, ``notifier/flush``, ``notifier/schema`` (reference §2.11)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from animus_plugin_protocol._wire import WireModel

__all__ = [
    "DaemonEventRecord",
    "NotifierFlushParams",
    "NotifierFlushResult",
    "NotifierLifecycleEvent",
    "NotifierNotifyParams",
    "NotifierNotifyResult",
    "NotifierSchema",
]


class DaemonEventRecord(WireModel):
    schema_: str = Field(alias="schema")  # e.g. "animus.daemon-event.v1"
    id: str
    seq: int = Field(default=0, ge=0)
    timestamp: str
    event_type: str
    project_root: str | None = None
    data: Any = None


class NotifierLifecycleEvent(WireModel):
    event_type: str
    project_root: str | None = None
    data: Any = None


class NotifierNotifyParams(WireModel):
    event: DaemonEventRecord


class NotifierNotifyResult(WireModel):
    accepted: bool
    delivered: int = Field(default=0, ge=0)
    lifecycle_events: list[NotifierLifecycleEvent] = Field(default_factory=list)


class NotifierFlushParams(WireModel):
    project_root: str | None = None


class NotifierFlushResult(WireModel):
    lifecycle_events: list[NotifierLifecycleEvent] = Field(default_factory=list)


class NotifierSchema(WireModel):
    connector_kinds: list[str] = Field(default_factory=list)
    supports_flush: bool = False
