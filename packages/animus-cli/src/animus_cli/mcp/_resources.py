"""MCP resources: the project's tasks, requirements and daemon events as readable documents.

``animus://project/tasks`` and ``animus://project/requirements`` are the first 200 subjects
of that kind (the ``animus.subject.list`` page); ``animus://project/daemon-events?limit=N``
the latest N daemon events (default 50, at most 200). Contents are ``animus.cli.v1``
envelopes as JSON text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from animus_cli.mcp._context import ToolContext
from animus_cli.mcp._pagination import MAX_LIMIT
from animus_protocol.envelope import InvalidInputError, NotFoundError

__all__ = ["RESOURCES", "TEMPLATES", "read_resource"]

_EVENTS_DEFAULT = 50

RESOURCES = {
    "animus://project/tasks": "Tasks of this project, most urgent first (first 200).",
    "animus://project/requirements": "Requirements of this project (first 200).",
    "animus://project/daemon-events": "The latest daemon events (limit: default 50, max 200).",
}
TEMPLATES = {
    "animus://project/daemon-events{?limit}": "The latest N daemon events (N at most 200).",
}


def _subjects(kind: str) -> Callable[[ToolContext, dict[str, list[str]]], Any]:
    def read(ctx: ToolContext, query: dict[str, list[str]]) -> Any:
        from animus_cli.mcp.tools_subject import SubjectListInput, subject_list

        return subject_list(ctx, SubjectListInput(kind=kind, limit=MAX_LIMIT))

    return read


def _events(ctx: ToolContext, query: dict[str, list[str]]) -> Any:
    from animus_cli.mcp.tools_daemon import DaemonEventsInput, daemon_events

    raw = (query.get("limit") or [str(_EVENTS_DEFAULT)])[0]
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInputError(
            f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}",
            hint="e.g. animus://project/daemon-events?limit=20",
        )
    return daemon_events(ctx, DaemonEventsInput(limit=int(raw)))


_READERS: dict[str, Callable[[ToolContext, dict[str, list[str]]], Any]] = {
    "animus://project/tasks": _subjects("task"),
    "animus://project/requirements": _subjects("requirement"),
    "animus://project/daemon-events": _events,
}


def read_resource(ctx: ToolContext, uri: str) -> Any:
    """The data behind ``uri`` (raises NotFoundError for an unknown resource)."""
    parts = urlsplit(uri)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    reader = _READERS.get(base)
    if reader is None:
        raise NotFoundError(
            f"no resource {uri!r}",
            details={"uri": uri, "known": sorted(RESOURCES)},
            hint="resources/list shows the resources of this server",
        )
    return reader(ctx, parse_qs(parts.query))
