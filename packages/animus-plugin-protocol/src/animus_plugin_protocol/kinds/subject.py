"""subject_backend kind: ``subject/*`` methods, the subject model, and the dispatch envelope
shared with queue and workflow_runner (reference §2.2)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from animus_plugin_protocol._wire import WireModel

__all__ = [
    "BUILTIN_SUBJECT_KINDS",
    "ChangeKind",
    "CustomFieldSpec",
    "StatusDispatchHint",
    "Subject",
    "SubjectAttachment",
    "SubjectChangedEvent",
    "SubjectChangedParams",
    "SubjectCreateParams",
    "SubjectDeleteResult",
    "SubjectDispatch",
    "SubjectFilter",
    "SubjectGetParams",
    "SubjectList",
    "SubjectPatch",
    "SubjectRef",
    "SubjectSchema",
    "SubjectStatus",
    "SubjectUnwatchParams",
    "SubjectUpdateParams",
    "SubjectWatchAck",
    "subject_key",
]


class SubjectStatus(StrEnum):
    READY = "ready"
    IN_PROGRESS = "in-progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    STATUS_CHANGED = "status-changed"
    DELETED = "deleted"
    DISPATCH_LABEL_CHANGED = "dispatch-label-changed"
    ATTACHMENT_ADDED = "attachment-added"
    ATTACHMENT_REMOVED = "attachment-removed"


class SubjectAttachment(WireModel):
    id: str
    kind: str
    uri: str
    title: str | None = None
    mime_type: str | None = None
    metadata: Any = None


class Subject(WireModel):
    omit_if_empty: ClassVar[frozenset[str]] = frozenset(
        {"labels", "children", "custom", "attachments"}
    )

    id: str
    kind: str
    title: str
    status: SubjectStatus
    created_at: str = Field(min_length=1)
    updated_at: str = Field(min_length=1)
    description: str | None = None
    priority: int | None = Field(default=None, ge=0, le=255)
    assignee: str | None = None
    labels: list[str] = Field(default_factory=list)
    parent: str | None = None
    children: list[str] = Field(default_factory=list)
    url: str | None = None
    custom: dict[str, Any] = Field(default_factory=dict)
    native_status: str | None = None
    status_metadata: Any = None
    attachments: list[SubjectAttachment] = Field(default_factory=list)


class SubjectFilter(WireModel):
    """``subject/list`` params (flat); every criterion is optional and they AND together."""

    status: list[SubjectStatus] | None = None
    kind: list[str] | None = None
    assignee: list[str] | None = None
    labels_any: list[str] | None = None
    labels_all: list[str] | None = None
    updated_since: str | None = None
    cursor: str | None = None
    limit: int | None = Field(default=None, ge=0)
    native_status: str | None = None
    dispatch_label: str | None = None
    has_attachment_kind: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _unwrap_filter(cls, data: Any) -> Any:
        # The Python SDK (and the control surface) wrap it as {"filter": {...}}.
        if isinstance(data, dict) and set(data) == {"filter"} and isinstance(data["filter"], dict):
            return data["filter"]
        return data


class SubjectList(WireModel):
    subjects: list[Subject] = Field(default_factory=list)
    next_cursor: str | None = None
    fetched_at: str = Field(min_length=1)


class SubjectGetParams(WireModel):
    id: str


class SubjectPatch(WireModel):
    """``assignee``: absent leaves it untouched, ``null`` clears it, a string sets it."""

    keep_null: ClassVar[frozenset[str]] = frozenset({"assignee"})
    omit_if_empty: ClassVar[frozenset[str]] = frozenset({"labels_add", "labels_remove", "custom"})

    status: SubjectStatus | None = None
    assignee: str | None = None
    labels_add: list[str] = Field(default_factory=list)
    labels_remove: list[str] = Field(default_factory=list)
    comment: str | None = None
    custom: dict[str, Any] = Field(default_factory=dict)

    @property
    def assignee_given(self) -> bool:
        """True when the patch touches the assignee (set or clear)."""
        return "assignee" in self.model_fields_set


class SubjectUpdateParams(WireModel):
    id: str
    patch: SubjectPatch


class SubjectDeleteResult(WireModel):
    ok: bool


class StatusDispatchHint(WireModel):
    native_status: str
    maps_to: SubjectStatus
    dispatch_label: str | None = None
    description: str | None = None


class CustomFieldSpec(WireModel):
    key: str
    type: Literal["string", "number", "bool", "enum", "date"]
    values: list[str] | None = None


class SubjectSchema(WireModel):
    kinds: list[str] = Field(default_factory=list)
    status_values: list[SubjectStatus] = Field(default_factory=list)
    supports_watch: bool = False
    supports_create: bool = False
    supports_delete: bool = False
    supports_pagination: bool = False
    native_status_values: list[str] = Field(default_factory=list)
    status_dispatch_hints: list[StatusDispatchHint] = Field(default_factory=list)
    custom_fields: list[CustomFieldSpec] = Field(default_factory=list)


class SubjectChangedEvent(WireModel):
    id: str
    change_kind: ChangeKind
    subject: Subject | None = None
    previous_native_status: str | None = None
    previous_dispatch_label: str | None = None


class SubjectChangedParams(WireModel):
    """``subject/changed`` params as emitted: ``{id: <watch request id>, event}``.

    Validation also accepts the bare event (what the daemon falls back to) with ``id``
    unknown (``None``).
    """

    id: int | str | None = None
    event: SubjectChangedEvent

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_event(cls, data: Any) -> Any:
        if isinstance(data, dict) and "event" not in data and "change_kind" in data:
            return {"id": None, "event": data}
        return data


class SubjectWatchAck(WireModel):
    watching: bool = True


class SubjectUnwatchParams(WireModel):
    watch_id: str


class SubjectCreateParams(WireModel):
    kind: str | None = None
    title: str
    description: str | None = None
    body: str | None = None
    status: SubjectStatus | None = None
    priority: int | None = Field(default=None, ge=0, le=255)
    labels: list[str] | None = None
    assignee: str | None = None
    custom: dict[str, Any] | None = None


# -- dispatch envelope ---------------------------------------------------------------

_LEGACY_TAGS = {"Task": "animus.task", "Requirement": "animus.requirement", "Custom": "custom"}
_TAG_FOR_KIND = {kind: tag for tag, kind in _LEGACY_TAGS.items()}
BUILTIN_SUBJECT_KINDS = frozenset(_TAG_FOR_KIND)


class SubjectRef(WireModel):
    """What a dispatch is about. Two wire forms, both accepted:

    * legacy externally tagged, for built-in kinds: ``{"Task": {"id": "TASK-1"}}``,
      ``{"Requirement": {"id": ...}}``, ``{"Custom": {"title": ..., "description": ...}}``;
    * flat, for any other kind or when labels/metadata are present:
      ``{"kind", "id", "title"?, "description"?, "labels"?, "metadata"?}``.

    It is written back in the legacy form whenever that form can carry it.
    """

    kind: str
    id: str | None = None
    title: str | None = None
    description: str | None = None
    labels: list[str] | None = None
    metadata: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _accept_legacy_form(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) == 1:
            ((tag, body),) = data.items()
            if tag in _LEGACY_TAGS and isinstance(body, dict):
                return {**body, "kind": _LEGACY_TAGS[tag]}
        return data

    @model_serializer(mode="wrap")
    def _legacy_when_possible(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        data = handler(self)
        tag = _TAG_FOR_KIND.get(self.kind)
        if not isinstance(data, dict) or tag is None or self.labels or self.metadata:
            return data
        if self.model_extra:
            return data
        body = {k: v for k, v in data.items() if k not in ("kind", "labels", "metadata")}
        return {tag: body}

    def key(self) -> str:
        return subject_key(self)


def subject_key(ref: SubjectRef) -> str:
    """The bare id for built-in kinds and ``<kind>::<id>`` otherwise."""
    ident = ref.id if ref.id is not None else (ref.title or "")
    if ref.kind in BUILTIN_SUBJECT_KINDS:
        return ident
    return f"{ref.kind}::{ident}"


class SubjectDispatch(WireModel):
    subject: SubjectRef
    workflow_ref: str
    input: Any = None
    vars: dict[str, str] | None = None
    priority: str | None = None  # low | medium | high | critical
    trigger_source: str
    requested_at: str
