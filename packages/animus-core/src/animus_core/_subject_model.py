"""The router's generic shapes: list queries, pages and the backend protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from animus_plugin_protocol import (
    Subject,
    SubjectCreateParams,
    SubjectFilter,
    SubjectPatch,
    SubjectSchema,
)

__all__ = ["SubjectBackend", "SubjectPage", "SubjectQuery"]


@dataclass(frozen=True)
class SubjectQuery:
    """What ``subject list`` asks a backend for.

    ``status`` values may be the backend's native statuses (``backlog``, ``po-review``) or
    normalized ones (``ready`` ...); a normalized value that is not native selects every
    native status that maps to it. ``labels`` must all be present.
    """

    status: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    assignee: str | None = None
    search: str | None = None
    limit: int = 50
    offset: int = 0
    sort: str = "priority"

    @classmethod
    def from_filter(cls, flt: SubjectFilter, *, offset: int = 0) -> SubjectQuery:
        """The plugin wire filter as a query (``labels_all``; first assignee; native status)."""
        status = [s.value for s in flt.status or []]
        if flt.native_status:
            status.append(flt.native_status)
        return cls(
            status=tuple(status),
            labels=tuple(flt.labels_all or ()),
            assignee=flt.assignee[0] if flt.assignee else None,
            limit=50 if flt.limit is None else flt.limit,
            offset=offset,
        )


class SubjectPage(BaseModel):
    items: list[Subject]
    total: int
    limit: int
    offset: int


@runtime_checkable
class SubjectBackend(Protocol):
    """One subject kind's store. Built-in backends are in-process; plugin backends later
    wrap a ``subject_backend`` plugin behind the same methods."""

    kind: str

    def schema(self) -> SubjectSchema: ...

    def list(self, query: SubjectQuery) -> SubjectPage: ...

    def get(self, subject_id: str) -> Subject: ...

    def create(self, params: SubjectCreateParams) -> Subject: ...

    def update(self, subject_id: str, patch: SubjectPatch) -> Subject: ...

    def set_status(self, subject_id: str, status: str, force: bool = False) -> Subject: ...

    def next(self) -> Subject | None: ...

    def delete(self, subject_id: str) -> Subject: ...
