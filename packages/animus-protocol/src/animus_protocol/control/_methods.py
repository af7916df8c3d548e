"""The control method table: every method's params and result model, and its stream.

Servers validate incoming params with :func:`parse_control_params`; clients validate results
with :func:`parse_control_result`. Both raise ``AnimusError`` subclasses, so a malformed call
is answered with category ``invalid_request`` and an unknown method with ``not_supported``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from animus_plugin_protocol import (
    LogEntry,
    Subject,
    SubjectChangedEvent,
    SubjectCreateParams,
    SubjectGetParams,
    SubjectList,
    SubjectUpdateParams,
)
from animus_protocol.control._daemon import (
    DaemonAgentsResult,
    DaemonEventsParams,
    DaemonHealthResponse,
    DaemonLogsParams,
    DaemonMetricsSnapshot,
    DaemonNudgeParams,
    DaemonPauseResult,
    DaemonRunEvent,
    DaemonStatusResponse,
)
from animus_protocol.control._queue_project import (
    ControlQueueEntry,
    ControlQueueStats,
    ProjectInitParams,
    ProjectInitResult,
    ProjectSetupParams,
    ProjectStatusResponse,
    QueueEnqueueRequest,
    QueueHoldRequest,
    QueueIdParams,
    QueueListRequest,
    QueueListResponse,
    QueueReorderRequest,
)
from animus_protocol.control._service_call import (
    SERVICE_CALL_METHOD,
    ServiceCallParams,
    ServiceCallResult,
)
from animus_protocol.control._stream import (
    CancelRequestParams,
    EmptyParams,
    EmptyResult,
    SetPrincipalParams,
    StreamAck,
)
from animus_protocol.control._subject_plugin import (
    InstalledPlugin,
    PluginBrowseParams,
    PluginCallParams,
    PluginCatalog,
    PluginInstallParams,
    PluginInstallResult,
    PluginListParams,
    PluginListResult,
    PluginNameParams,
    PluginPingResult,
    PluginSearchParams,
    PluginUpdateParams,
    PluginUpdateResult,
    SubjectListParams,
    SubjectNextParams,
    SubjectNextResult,
    SubjectStatusParams,
    SubjectWatchParams,
)
from animus_protocol.control._workflow_agent import (
    AgentCancelParams,
    AgentRunParams,
    AgentRunResult,
    AgentStatusParams,
    AgentStatusResponse,
    WorkflowCancelParams,
    WorkflowEventsParams,
    WorkflowExecuteParams,
    WorkflowGetResult,
    WorkflowIdParams,
    WorkflowListParams,
    WorkflowListResult,
    WorkflowResumeParams,
    WorkflowRunParams,
    WorkflowStarted,
)
from animus_protocol.envelope import InternalError, InvalidInputError, NotSupportedError
from animus_protocol.events import WorkflowEvent

__all__ = [
    "CONTROL_METHODS",
    "CONTROL_METHOD_SPECS",
    "CONTROL_NOTIFICATIONS",
    "READ_METHODS",
    "STREAM_METHODS",
    "STREAM_NOTIFICATIONS",
    "ControlMethodSpec",
    "parse_control_params",
    "parse_control_result",
    "parse_stream_item",
]


@dataclass(frozen=True)
class ControlMethodSpec:
    """One row of the method table.

    ``result`` is ``None`` when the result is opaque (``plugin/call`` relays the plugin's raw
    answer). For streams, ``result`` is the ack and ``notification``/``item`` name and type
    each pushed item.
    """

    method: str
    params: type[BaseModel]
    result: type[BaseModel] | None
    read_only: bool = False
    notification: str | None = None
    item: type[BaseModel] | None = None

    @property
    def is_stream(self) -> bool:
        return self.notification is not None


def _spec(
    method: str,
    params: type[BaseModel],
    result: type[BaseModel] | None,
    *,
    read: bool = False,
    notification: str | None = None,
    item: type[BaseModel] | None = None,
) -> ControlMethodSpec:
    return ControlMethodSpec(method, params, result, read, notification, item)


_SPECS = [
    # subject/*
    _spec("subject/list", SubjectListParams, SubjectList, read=True),
    _spec("subject/get", SubjectGetParams, Subject, read=True),
    _spec("subject/create", SubjectCreateParams, Subject),
    _spec("subject/update", SubjectUpdateParams, Subject),
    _spec("subject/next", SubjectNextParams, SubjectNextResult, read=True),
    _spec("subject/status", SubjectStatusParams, Subject),
    _spec(
        "subject/watch",
        SubjectWatchParams,
        StreamAck,
        read=True,
        notification="subject/changed",
        item=SubjectChangedEvent,
    ),
    # plugin/*
    _spec("plugin/list", PluginListParams, PluginListResult, read=True),
    _spec("plugin/info", PluginNameParams, InstalledPlugin, read=True),
    _spec("plugin/install", PluginInstallParams, PluginInstallResult),
    _spec("plugin/uninstall", PluginNameParams, EmptyResult),
    _spec("plugin/ping", PluginNameParams, PluginPingResult, read=True),
    _spec("plugin/call", PluginCallParams, None),
    _spec("plugin/search", PluginSearchParams, PluginCatalog, read=True),
    _spec("plugin/browse", PluginBrowseParams, PluginCatalog, read=True),
    _spec("plugin/update", PluginUpdateParams, PluginUpdateResult),
    # daemon/*
    _spec("daemon/status", EmptyParams, DaemonStatusResponse, read=True),
    _spec("daemon/health", EmptyParams, DaemonHealthResponse, read=True),
    _spec("daemon/start", EmptyParams, EmptyResult),
    _spec("daemon/stop", EmptyParams, EmptyResult),
    _spec("daemon/restart", EmptyParams, EmptyResult),
    _spec("daemon/pause", EmptyParams, DaemonPauseResult),
    _spec("daemon/resume", EmptyParams, DaemonPauseResult),
    _spec("daemon/nudge", DaemonNudgeParams, EmptyResult),
    _spec("daemon/metrics", EmptyParams, DaemonMetricsSnapshot, read=True),
    _spec("daemon/agents", EmptyParams, DaemonAgentsResult, read=True),
    _spec(
        "daemon/events",
        DaemonEventsParams,
        StreamAck,
        read=True,
        notification="daemon/event",
        item=DaemonRunEvent,
    ),
    _spec(
        "daemon/logs",
        DaemonLogsParams,
        StreamAck,
        read=True,
        notification="daemon/log",
        item=LogEntry,
    ),
    # workflow/*
    _spec("workflow/list", WorkflowListParams, WorkflowListResult, read=True),
    _spec("workflow/get", WorkflowIdParams, WorkflowGetResult, read=True),
    _spec("workflow/run", WorkflowRunParams, WorkflowStarted),
    _spec("workflow/execute", WorkflowExecuteParams, WorkflowStarted),
    _spec("workflow/pause", WorkflowIdParams, EmptyResult),
    _spec("workflow/resume", WorkflowResumeParams, EmptyResult),
    _spec("workflow/cancel", WorkflowCancelParams, EmptyResult),
    _spec(
        "workflow/events",
        WorkflowEventsParams,
        StreamAck,
        read=True,
        notification="workflow/event",
        item=WorkflowEvent,
    ),
    # agent/*
    _spec("agent/run", AgentRunParams, AgentRunResult),
    _spec("agent/status", AgentStatusParams, AgentStatusResponse, read=True),
    _spec("agent/cancel", AgentCancelParams, EmptyResult),
    # queue/*
    _spec("queue/list", QueueListRequest, QueueListResponse, read=True),
    _spec("queue/enqueue", QueueEnqueueRequest, ControlQueueEntry),
    _spec("queue/drop", QueueIdParams, EmptyResult),
    _spec("queue/hold", QueueHoldRequest, EmptyResult),
    _spec("queue/release", QueueIdParams, EmptyResult),
    _spec("queue/reorder", QueueReorderRequest, EmptyResult),
    _spec("queue/stats", EmptyParams, ControlQueueStats, read=True),
    # project/*
    _spec("project/init", ProjectInitParams, ProjectInitResult),
    _spec("project/setup", ProjectSetupParams, ProjectInitResult),
    _spec("project/status", EmptyParams, ProjectStatusResponse, read=True),
    # service/* (an Animus-Python extension, not in the original's method set): one allowlisted
    # service-hub call run in the daemon, so the CLI gets the same results through the socket
    # as in process. Not read-only as a whole: see READ_ONLY_SERVICE_CALLS per method.
    _spec(SERVICE_CALL_METHOD, ServiceCallParams, ServiceCallResult),
]

CONTROL_METHOD_SPECS: Mapping[str, ControlMethodSpec] = {s.method: s for s in _SPECS}
CONTROL_METHODS: frozenset[str] = frozenset(CONTROL_METHOD_SPECS)
STREAM_METHODS: frozenset[str] = frozenset(s.method for s in _SPECS if s.is_stream)
READ_METHODS: frozenset[str] = frozenset(s.method for s in _SPECS if s.read_only)
STREAM_NOTIFICATIONS: Mapping[str, str] = {
    s.method: s.notification for s in _SPECS if s.notification is not None
}
# Client -> daemon notifications (no reply).
CONTROL_NOTIFICATIONS: Mapping[str, type[BaseModel]] = {
    "$/cancelRequest": CancelRequestParams,
    "$/setPrincipal": SetPrincipalParams,
}


def _spec_for(method: str) -> ControlMethodSpec:
    spec = CONTROL_METHOD_SPECS.get(method)
    if spec is None:
        raise NotSupportedError(
            f"unknown control method {method!r}",
            details={"method": method},
            hint="see daemon/status capabilities.methods for what this daemon serves",
        )
    return spec


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(params)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _error_list(exc: ValidationError) -> list[dict[str, Any]]:
    # Only JSON-safe parts: pydantic's ctx/input may hold arbitrary objects.
    return [
        {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]


def parse_control_params(method: str, params: Any) -> BaseModel:
    """Validate ``params`` for ``method`` (``None`` counts as ``{}``)."""
    spec = _spec_for(method)
    try:
        return spec.params.model_validate({} if params is None else params)
    except ValidationError as exc:
        raise InvalidInputError(
            f"invalid params for {method}: {_describe(exc)}",
            details={"method": method, "errors": _error_list(exc)},
        ) from None


def parse_control_result(method: str, result: Any) -> Any:
    """Validate a result for ``method``; opaque results are returned unchanged.

    A result that does not fit is a peer bug, reported as :class:`InternalError`.
    """
    spec = _spec_for(method)
    if spec.result is None:
        return result
    try:
        return spec.result.model_validate({} if result is None else result)
    except ValidationError as exc:
        raise InternalError(
            f"malformed {method} result from the daemon: {_describe(exc)}",
            details={"method": method},
        ) from None


def parse_stream_item(method: str, data: Any) -> BaseModel:
    """Validate one pushed item of the stream opened by ``method``."""
    spec = _spec_for(method)
    if spec.item is None:
        raise InvalidInputError(f"{method} is not a stream method", details={"method": method})
    try:
        return spec.item.model_validate(data)
    except ValidationError as exc:
        raise InternalError(
            f"malformed {spec.notification} item: {_describe(exc)}",
            details={"method": method},
        ) from None
