"""Streaming envelopes shared by every subscription method.

Request -> ack result (``{"watching": true}``) -> notifications
``{method, params: {id: <request id>, data}}`` -> optional terminal
``subscription/closed {id, reason}`` or EOF. A client cancels with ``$/cancelRequest {id}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from animus_protocol._wire import WireRequest

__all__ = [
    "SUBSCRIPTION_CLOSED",
    "CancelRequestParams",
    "EmptyParams",
    "EmptyResult",
    "SetPrincipalParams",
    "StreamAck",
    "StreamNotification",
    "SubscriptionClosed",
]

SUBSCRIPTION_CLOSED = "subscription/closed"

RequestIdValue = int | str


class EmptyParams(WireRequest):
    """Methods without parameters accept ``{}``, ``null`` or no ``params``."""


class EmptyResult(WireRequest):
    """``{}``: the call succeeded and has nothing to report."""


class StreamAck(WireRequest):
    watching: bool = True


class StreamNotification(WireRequest):
    """``params`` of a stream notification: the originating request id and one item."""

    id: RequestIdValue
    data: Any = None


class SubscriptionClosed(WireRequest):
    """Terminal notification of a stream; ``reason`` e.g. ``completed``,
    ``buffer_full_lagged``, ``daemon_shutdown``, ``cancelled``."""

    id: RequestIdValue
    reason: str = "completed"


class CancelRequestParams(WireRequest):
    id: RequestIdValue


class SetPrincipalParams(WireRequest):
    """``$/setPrincipal`` (``--as``): the principal later calls on this connection act as."""

    principal: str = Field(min_length=1)
