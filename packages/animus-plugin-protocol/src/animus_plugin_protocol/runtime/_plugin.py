"""Plugin declaration, handler registry and the command line (``--manifest``, ``--help``)."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from animus_plugin_protocol._lifecycle import (
    PROTOCOL_VERSION,
    EnvRequirement,
    InitializeResult,
    KindCapability,
    PluginCapabilities,
    PluginInfo,
    PluginManifest,
)

from ._context import RequestContext

__all__ = ["Handler", "NotificationHandler", "Plugin"]

Handler = Callable[[dict[str, Any], RequestContext], Awaitable[Any]]
NotificationHandler = Callable[[dict[str, Any]], Awaitable[None]]
_H = TypeVar("_H", bound=Handler)
_N = TypeVar("_N", bound=NotificationHandler)

_RESERVED = frozenset({"initialize", "initialized", "shutdown", "exit", "$/cancelRequest"})
_METHOD_NAME = re.compile(r"^[^\s]+$")

USAGE = """\
usage: {prog} [--manifest | -m] [--help | -h]

{name} {version}: an Animus {kind} plugin. {description}

Started without arguments it speaks JSON-RPC 2.0 (one JSON frame per line) on stdin/stdout;
an Animus host launches it that way.

  -m, --manifest   print the plugin manifest (one JSON line) and exit
  -h, --help       show this help and exit
"""


def _is_async_function(obj: object) -> bool:
    # A plain bool (not a TypeGuard) so the decorator keeps returning the caller's type.
    return inspect.iscoroutinefunction(obj)


def _env_requirement(item: EnvRequirement | Mapping[str, Any] | str) -> EnvRequirement:
    if isinstance(item, EnvRequirement):
        return item
    if isinstance(item, str):
        return EnvRequirement(name=item)
    return EnvRequirement.model_validate(dict(item))


class Plugin:
    """A plugin's identity and its handlers. `run` is the whole program."""

    def __init__(
        self,
        name: str,
        version: str,
        kind: str,
        description: str,
        *,
        kinds: Iterable[str] = (),
        env_required: Iterable[EnvRequirement | Mapping[str, Any] | str] = (),
        capabilities: Iterable[str] = (),
        notification_buffer_size: int | None = None,
        kind_capabilities: Mapping[str, KindCapability | Mapping[str, Any]] | None = None,
        subject_kinds: Iterable[str] = (),
        streaming: bool = False,
        shutdown_grace_secs: float = 10.0,
    ) -> None:
        if not name or not version or not kind:
            raise ValueError("a plugin needs a non-empty name, version and kind")
        self.name = name
        self.version = version
        self.kind = str(kind)
        self.description = description
        self.kinds = [str(k) for k in kinds if str(k) != self.kind]
        self.env_required = [_env_requirement(e) for e in env_required]
        self.extra_capabilities = list(capabilities)
        self.notification_buffer_size = notification_buffer_size
        self.kind_capabilities = {
            k: v if isinstance(v, KindCapability) else KindCapability.model_validate(dict(v))
            for k, v in (kind_capabilities or {}).items()
        }
        self.subject_kinds = list(subject_kinds)
        self.streaming = streaming
        self.shutdown_grace_secs = shutdown_grace_secs
        self.handlers: dict[str, Handler] = {}
        self.notification_handlers: dict[str, NotificationHandler] = {}
        self.health_check: Callable[[], Awaitable[Mapping[str, Any]]] | None = None

    # -- registration -----------------------------------------------------------------

    def method(self, name: str) -> Callable[[_H], _H]:
        """Register ``async def handler(params: dict, ctx: RequestContext)`` for ``name``."""
        if not _METHOD_NAME.match(name) or name in _RESERVED:
            raise ValueError(f"cannot register a handler for method {name!r}")

        def register(handler: _H) -> _H:
            if not _is_async_function(handler):
                raise TypeError(f"handler for {name!r} must be an 'async def' function")
            self.handlers[name] = handler
            return handler

        return register

    def notification(self, name: str) -> Callable[[_N], _N]:
        """Register ``async def handler(params: dict)`` for an incoming notification."""

        def register(handler: _N) -> _N:
            self.notification_handlers[name] = handler
            return handler

        return register

    # -- what the host sees -----------------------------------------------------------

    def methods(self) -> list[str]:
        """The capability registry: served methods, ``health/check``, then opt-in tokens."""
        out = [m for m in self.handlers if m != "health/check"]
        out.append("health/check")
        out.extend(c for c in self.extra_capabilities if c not in out)
        return out

    def manifest(self) -> PluginManifest:
        return PluginManifest(
            name=self.name,
            version=self.version,
            plugin_kind=self.kind,
            plugin_kinds=self.kinds,
            description=self.description,
            protocol_version=PROTOCOL_VERSION,
            capabilities=self.methods(),
            env_required=self.env_required,
            notification_buffer_size=self.notification_buffer_size,
        )

    def initialize_result(self) -> InitializeResult:
        return InitializeResult(
            protocol_version=PROTOCOL_VERSION,
            plugin_info=PluginInfo(
                name=self.name,
                version=self.version,
                plugin_kind=self.kind,
                plugin_kinds=self.kinds,
                description=self.description,
            ),
            capabilities=PluginCapabilities(
                methods=self.methods(),
                streaming=self.streaming,
                progress=False,
                cancellation=True,
                subject_kinds=self.subject_kinds,
            ),
            kind_capabilities=self.kind_capabilities,
        )

    # -- the program ------------------------------------------------------------------

    def run(self, argv: list[str] | None = None) -> int:
        """Parse the command line and either answer a flag or serve stdio; the exit code."""
        args = sys.argv[1:] if argv is None else list(argv)
        prog = (sys.argv[0] if sys.argv and sys.argv[0] else self.name).rsplit("/", 1)[-1]
        if args in (["--manifest"], ["-m"]):
            sys.stdout.write(self.manifest().to_json() + "\n")
            sys.stdout.flush()
            return 0
        if args in (["--help"], ["-h"]):
            sys.stderr.write(
                USAGE.format(
                    prog=prog,
                    name=self.name,
                    version=self.version,
                    kind=self.kind,
                    description=self.description,
                )
            )
            return 0
        if args:
            sys.stderr.write(f"{prog}: unknown arguments {' '.join(args)!r}; try --help\n")
            return 2
        try:
            interactive = sys.stdin.isatty()
        except (AttributeError, ValueError):
            interactive = False
        if interactive:
            sys.stderr.write(
                f"{prog} is an Animus plugin: it speaks JSON-RPC on stdin/stdout and is "
                "started by an Animus host.\nRun it with --manifest to see what it provides, "
                "or --help for usage.\n"
            )
            return 2
        from ._serve import serve_stdio

        return serve_stdio(self)

    def main(self) -> None:
        """`run` with ``sys.argv``, then exit the process with its code."""
        raise SystemExit(self.run())
