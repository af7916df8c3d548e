"""transport_backend kind (also used by web_ui wrappers): ``transport/*`` (reference §2.5)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from animus_plugin_protocol._wire import WireModel

__all__ = ["TransportConfig", "TransportInfo", "TransportSchema", "TransportShutdownResult"]


class TransportConfig(WireModel):
    """``transport/start`` params."""

    control_socket_path: str
    project_root: str
    bind_addr: str | None = None
    config: Any = None


class TransportInfo(WireModel):
    """``transport/start`` result, sent once the transport is listening."""

    bound_addr: str
    started_at: str


class TransportShutdownResult(WireModel):
    shutdown: bool = True


class TransportSchema(WireModel):
    kinds: list[str] = Field(default_factory=list)
    supports_streaming: bool = False
    supports_websocket: bool = False
    default_port: int | None = Field(default=None, ge=0, le=65535)
