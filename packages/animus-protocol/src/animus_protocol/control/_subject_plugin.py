"""``subject/*`` and ``plugin/*`` control methods.

Subject payloads reuse the subject_backend wire models of ``animus-plugin-protocol``
(``Subject``, ``SubjectFilter``, ``SubjectPatch``, ``SubjectChangedEvent``...), so the daemon
relays a backend's answer without reshaping it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from animus_plugin_protocol import Subject, SubjectFilter
from animus_protocol._wire import WireRequest

__all__ = [
    "InstalledPlugin",
    "PluginBrowseParams",
    "PluginCallParams",
    "PluginCatalog",
    "PluginCatalogEntry",
    "PluginInstallParams",
    "PluginInstallResult",
    "PluginListParams",
    "PluginListResult",
    "PluginNameParams",
    "PluginPingResult",
    "PluginSearchParams",
    "PluginUpdate",
    "PluginUpdateParams",
    "PluginUpdateResult",
    "PluginWarning",
    "SubjectListParams",
    "SubjectNextParams",
    "SubjectNextResult",
    "SubjectStatusParams",
    "SubjectWatchParams",
]


class SubjectListParams(WireRequest):
    """``{filter: SubjectFilter}``; a flat filter (the plugin form) is accepted too."""

    filter: SubjectFilter = Field(default_factory=SubjectFilter)

    @model_validator(mode="before")
    @classmethod
    def _accept_flat_filter(cls, data: Any) -> Any:
        if isinstance(data, dict) and data and "filter" not in data:
            return {"filter": data}
        return data


class SubjectNextParams(WireRequest):
    kind: str | None = None


class SubjectNextResult(WireRequest):
    subject: Subject | None = None


class SubjectStatusParams(WireRequest):
    """``status`` is the backend's vocabulary (task statuses accept their aliases)."""

    id: str = Field(min_length=1)
    status: str = Field(min_length=1)


class SubjectWatchParams(WireRequest):
    kind: str | None = None
    filter: SubjectFilter | None = None


class InstalledPlugin(WireRequest):
    """``PluginInfo`` of the control protocol (not the plugin handshake's ``plugin_info``)."""

    name: str
    version: str
    kind: str
    source: str | None = None
    signature_verified: bool = False
    description: str | None = None
    binary_path: str | None = None


class PluginWarning(WireRequest):
    plugin: str
    message: str


class PluginListParams(WireRequest):
    include_warnings: bool = False
    kind: str | None = None


class PluginListResult(WireRequest):
    plugins: list[InstalledPlugin] = Field(default_factory=list)
    warnings: list[PluginWarning] | None = None


class PluginNameParams(WireRequest):
    """``plugin/info``, ``plugin/uninstall``, ``plugin/ping``."""

    name: str = Field(min_length=1)


class PluginInstallParams(WireRequest):
    source: str = Field(min_length=1)
    version: str | None = None
    yes: bool = False
    allow_unsigned: bool = False


class PluginInstallResult(WireRequest):
    plugin: InstalledPlugin
    steps: list[str] | None = None


class PluginPingResult(WireRequest):
    ok: bool
    latency_ms: float | None = None
    error: str | None = None


class PluginCallParams(WireRequest):
    name: str = Field(min_length=1)
    method: str = Field(min_length=1)
    params: Any = Field(default_factory=dict)


class PluginSearchParams(WireRequest):
    query: str = ""
    kind: str | None = None
    tag: str | None = None


class PluginBrowseParams(WireRequest):
    kind: str | None = None
    installed: bool = True
    available: bool = True


class PluginCatalogEntry(WireRequest):
    id: str
    name: str
    version: str
    kind: str
    description: str | None = None
    url: str | None = None
    tags: list[str] | None = None
    installed: bool = False


class PluginCatalog(WireRequest):
    """Result of ``plugin/search`` and ``plugin/browse``."""

    entries: list[PluginCatalogEntry] = Field(default_factory=list)


class PluginUpdateParams(WireRequest):
    name: str | None = None
    tag: str | None = None
    dry_run: bool = False


class PluginUpdate(WireRequest):
    name: str
    from_version: str
    to_version: str
    applied: bool = False


class PluginUpdateResult(WireRequest):
    updates: list[PluginUpdate] = Field(default_factory=list)
