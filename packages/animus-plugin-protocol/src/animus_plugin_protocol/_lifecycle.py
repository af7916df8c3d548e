"""Version, plugin kinds, manifest, the initialize handshake and the shared methods."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field

from ._wire import WireModel

__all__ = [
    "PROTOCOL_VERSION",
    "CancelParams",
    "ClientCapabilities",
    "EnvRequirement",
    "HealthCheckResult",
    "HealthStatus",
    "HostInfo",
    "InitializeParams",
    "InitializeResult",
    "KindCapability",
    "LogEntryParams",
    "LogLevel",
    "McpTool",
    "PluginCapabilities",
    "PluginInfo",
    "PluginKind",
    "PluginManifest",
    "ProgressParams",
    "ProjectBinding",
    "is_compatible",
    "parse_version",
]

PROTOCOL_VERSION = "1.1.0"


def parse_version(version: str) -> tuple[int, int, int]:
    """``"1.1.0"`` -> ``(1, 1, 0)``; missing parts are 0; raises ValueError on junk."""
    core = version.strip().lstrip("v").split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    if not parts or len(parts) > 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a semantic version: {version!r}")
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    return numbers[0], numbers[1], numbers[2]


def is_compatible(version: str, ours: str = PROTOCOL_VERSION) -> bool:
    """Compatible means the same major number (reference §1.3); junk is incompatible."""
    try:
        return parse_version(version)[0] == parse_version(ours)[0]
    except (ValueError, AttributeError):
        return False


class PluginKind(StrEnum):
    """Known kind strings. Model fields are plain ``str`` so unknown kinds round-trip."""

    PROVIDER = "provider"
    SUBJECT_BACKEND = "subject_backend"
    TASK_BACKEND = "task_backend"  # legacy alias, parsed but never built
    TRIGGER_BACKEND = "trigger_backend"
    LOG_STORAGE_BACKEND = "log_storage_backend"
    TRANSPORT_BACKEND = "transport_backend"
    WEB_UI = "web_ui"
    CONVERSATION_STORE = "conversation_store"
    CUSTOM = "custom"
    WORKFLOW_RUNNER = "workflow_runner"
    QUEUE = "queue"
    WORKFLOW_JOURNAL = "workflow_journal"
    DURABLE_STORE = "durable_store"
    MEMORY_STORE = "memory_store"
    AGENT_RUNNER = "agent_runner"  # legacy, kept for parsing
    NOTIFIER = "notifier"
    CONFIG_SOURCE = "config_source"

    @classmethod
    def is_known(cls, kind: str) -> bool:
        return kind in cls._value2member_map_

    @classmethod
    def is_legacy(cls, kind: str) -> bool:
        return kind in (cls.TASK_BACKEND.value, cls.AGENT_RUNNER.value)


class EnvRequirement(WireModel):
    name: str
    description: str | None = None
    sensitive: bool = False
    required: bool = False


class PluginManifest(WireModel):
    """What ``<plugin> --manifest`` prints (flat; ``description`` is required here)."""

    omit_if_empty: ClassVar[frozenset[str]] = frozenset({"plugin_kinds", "env_required"})

    name: str
    version: str
    plugin_kind: str
    plugin_kinds: list[str] = Field(default_factory=list)
    description: str
    protocol_version: str
    capabilities: list[str] = Field(default_factory=list)
    env_required: list[EnvRequirement] = Field(default_factory=list)
    notification_buffer_size: int | None = Field(default=None, ge=1)

    def serves_kind(self, kind: str) -> bool:
        return kind == self.plugin_kind or kind in self.plugin_kinds


class HostInfo(WireModel):
    name: str
    version: str


class ClientCapabilities(WireModel):
    streaming: bool = False
    progress: bool = False
    cancellation: bool = False


class ProjectBinding(WireModel):
    project_root: str


class InitializeParams(WireModel):
    omit_if_empty: ClassVar[frozenset[str]] = frozenset({"init_extensions"})

    protocol_version: str
    host_info: HostInfo
    capabilities: ClientCapabilities = Field(default_factory=ClientCapabilities)
    init_extensions: dict[str, Any] = Field(default_factory=dict)

    def project_binding(self) -> ProjectBinding | None:
        """The ``project_binding`` extension, when the host sent a well-formed one."""
        raw = self.init_extensions.get("project_binding")
        if isinstance(raw, dict) and isinstance(raw.get("project_root"), str):
            return ProjectBinding.model_validate(raw)
        return None


class PluginInfo(WireModel):
    omit_if_empty: ClassVar[frozenset[str]] = frozenset({"plugin_kinds"})

    name: str
    version: str
    plugin_kind: str
    plugin_kinds: list[str] = Field(default_factory=list)
    description: str | None = None


class McpTool(WireModel):
    name: str
    description: str | None = None
    input_schema: Any = None


class PluginCapabilities(WireModel):
    omit_if_empty: ClassVar[frozenset[str]] = frozenset(
        {"projections", "subject_kinds", "mcp_tools"}
    )

    methods: list[str] = Field(default_factory=list)
    streaming: bool = False
    progress: bool = False
    cancellation: bool = False
    projections: list[str] = Field(default_factory=list)
    subject_kinds: list[str] = Field(default_factory=list)
    mcp_tools: list[McpTool] = Field(default_factory=list)


class KindCapability(WireModel):
    crate_version: str
    extra: Any = None


class InitializeResult(WireModel):
    omit_if_empty: ClassVar[frozenset[str]] = frozenset({"kind_capabilities"})

    protocol_version: str
    plugin_info: PluginInfo
    capabilities: PluginCapabilities
    kind_capabilities: dict[str, KindCapability] = Field(default_factory=dict)


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


class HealthCheckResult(WireModel):
    status: HealthStatus
    uptime_ms: int | None = Field(default=None, ge=0)
    memory_usage_bytes: int | None = Field(default=None, ge=0)
    last_error: str | None = None


class CancelParams(WireModel):
    """``$/cancelRequest`` params."""

    id: int | str


class ProgressParams(WireModel):
    """``$/progress`` params."""

    id: int | str
    value: Any = None


LogLevel = Literal["trace", "debug", "info", "warn", "error"]


class LogEntryParams(WireModel):
    """``log/entry`` (plugin -> host) params; ``ts`` is RFC 3339 with microseconds."""

    level: LogLevel
    target: str
    message: str
    fields: dict[str, Any] = Field(default_factory=dict)
    ts: str
