"""Subject identity and the dispatch envelope that starts a workflow run (spec §5.1).

``SubjectRef`` is the wire model of ``animus-plugin-protocol`` re-exported unchanged (both
wire forms: legacy ``{"Task":{"id":...}}`` and flat ``{kind, id, ...}``), so a reference
built here is exactly what queue and workflow-runner plugins receive. ``SubjectDispatch``
refines the plugin model with domain types (a ``Priority`` enum, ``requested_at`` normalised
to the canonical RFC 3339 string and defaulting to now, ``vars`` always present) and remains
an instance of it, so it can be embedded in plugin requests as is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from animus_plugin_protocol import SubjectDispatch as _WireSubjectDispatch
from animus_plugin_protocol import SubjectRef
from animus_plugin_protocol import subject_key as _ref_key
from animus_protocol._wire import WireModel
from animus_protocol.statuses import Priority
from animus_protocol.timeutil import TimestampStr, parse_rfc3339, utc_now_str

__all__ = [
    "KIND_CUSTOM",
    "KIND_REQUIREMENT",
    "KIND_TASK",
    "SubjectDispatch",
    "SubjectRef",
    "WorkflowRunInput",
    "canonical_subject_kind",
    "custom_ref",
    "requirement_ref",
    "subject_key",
    "task_ref",
]

KIND_TASK = "animus.task"
KIND_REQUIREMENT = "animus.requirement"
KIND_CUSTOM = "custom"
_SHORT = {"task": KIND_TASK, "requirement": KIND_REQUIREMENT, "custom": KIND_CUSTOM}


def canonical_subject_kind(kind: str) -> str:
    """CLI spellings to wire kinds: ``task`` -> ``animus.task``; other kinds unchanged."""
    return _SHORT.get(kind.strip().lower(), kind.strip())


def subject_key(ref: SubjectRef) -> str:
    """Dedupe key: the bare id for built-in kinds, else ``<kind>::<id>``."""
    return _ref_key(ref)


def task_ref(task_id: str) -> SubjectRef:
    return SubjectRef(kind=KIND_TASK, id=task_id)


def requirement_ref(requirement_id: str) -> SubjectRef:
    return SubjectRef(kind=KIND_REQUIREMENT, id=requirement_id)


def custom_ref(title: str, description: str | None = None, id: str | None = None) -> SubjectRef:
    return SubjectRef(kind=KIND_CUSTOM, id=id, title=title, description=description)


class SubjectDispatch(_WireSubjectDispatch):
    """A request to run ``workflow_ref`` on ``subject``: the unit the queue holds."""

    model_config = ConfigDict(validate_assignment=True)

    vars: dict[str, str] = Field(default_factory=dict)
    priority: Priority | None = None
    trigger_source: str = "manual"
    requested_at: TimestampStr = Field(default_factory=utc_now_str)

    @property
    def subject_key(self) -> str:
        return subject_key(self.subject)

    @property
    def requested_at_dt(self) -> datetime:
        return parse_rfc3339(self.requested_at)


class WorkflowRunInput(WireModel):
    """What a runner is started with (the legacy flat ids are kept for old runners)."""

    subject: SubjectRef
    workflow_ref: str | None = None
    input: Any | None = None
    vars: dict[str, str] = Field(default_factory=dict)
    task_id: str = ""
    requirement_id: str | None = None
    title: str | None = None
    description: str | None = None
