"""trigger_backend kind: ``trigger/watch``, ``trigger/ack``, ``trigger/schema`` and the flat
``trigger/event`` notification (reference §2.3)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from animus_plugin_protocol._wire import WireModel

__all__ = [
    "NOTIFY_EVENT",
    "AckStatus",
    "ActionHint",
    "TriggerAckParams",
    "TriggerAckResult",
    "TriggerEvent",
    "TriggerSchema",
    "TriggerStreamError",
    "TriggerStreamErrorParams",
    "TriggerWatchAck",
    "TriggerWatchParams",
]

NOTIFY_EVENT = "trigger/event"


class ActionHint(StrEnum):
    """Known hints; ``TriggerEvent.action_hint`` is a plain string so others pass through."""

    CREATE_TASK = "create_task"
    RUN_WORKFLOW = "run_workflow"


class AckStatus(StrEnum):
    DISPATCHED = "dispatched"
    QUEUED = "queued"
    UNMATCHED = "unmatched"
    SKIPPED = "skipped"
    FAILED = "failed"
    SHUTDOWN = "shutdown"


class TriggerEvent(WireModel):
    """``trigger/event`` params: the event itself, flat (the only shape hosts decode)."""

    event_id: str = Field(min_length=1)
    trigger_id: str | None = None
    subject_id: str | None = None
    subject_kind: str | None = None
    action_hint: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class TriggerStreamError(WireModel):
    code: int
    message: str


class TriggerStreamErrorParams(WireModel):
    """A terminal stream error sent as a ``trigger/event`` whose params are ``{error}``."""

    error: TriggerStreamError


class TriggerWatchParams(WireModel):
    cursor: str | None = None
    config: Any = None


class TriggerWatchAck(WireModel):
    watching: bool = True


class TriggerAckParams(WireModel):
    event_id: str = Field(min_length=1)
    status: AckStatus | None = None


class TriggerAckResult(WireModel):
    event_id: str
    acked: bool = True


class TriggerSchema(WireModel):
    kinds: list[str] = Field(default_factory=list)
    supports_resume: bool = False
    supports_dedup: bool = False
    supports_ack: bool = False
