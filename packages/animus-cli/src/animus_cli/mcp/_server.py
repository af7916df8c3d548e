"""The MCP server: the tool registry served over stdio or streamable HTTP.

Built on the SDK's low-level ``Server`` so that each tool's ``inputSchema`` is exactly its
pydantic input model and validation failures come back as tool errors with the category
``invalid_input`` (the high-level ``MCPServer`` derives schemas from function signatures).
Tools run one at a time on a single worker thread: the services are synchronous and their
SQLite connections belong to the thread that opened them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import mcp_types as types
from pydantic import ValidationError

from animus_cli import __version__
from animus_cli.mcp._context import ServeOptions, ToolContext
from animus_cli.mcp._models import ToolSpec
from animus_cli.mcp._resources import RESOURCES, TEMPLATES, read_resource
from animus_cli.mcp._results import (
    as_error,
    dumps,
    error_envelope_of,
    schema_error,
    success_envelope_of,
)
from animus_protocol.envelope import NotFoundError

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext
    from mcp.server.lowlevel import Server

__all__ = ["AnimusMcpServer"]

_JSON = "application/json"
_INVALID_PARAMS = -32602
_RESOURCE_NOT_FOUND = -32002  # the MCP spec's code for an unknown resource URI

_INSTRUCTIONS = (
    "Animus orchestrates coding agents on this repository. Tools are named "
    "animus.<family>.<verb>: subject (work items), queue (dispatch), workflow (runs), "
    "output (what runs produced), daemon, plugin. Every result is an animus.cli.v1 envelope; "
    "errors carry error.category (invalid_input, not_found, conflict, unavailable, internal) "
    "and a hint. List tools page with limit (default 25, max 200) and offset; follow "
    "next_offset until it is null."
)


class AnimusMcpServer:
    """The tool registry bound to one project, ready to serve."""

    def __init__(
        self,
        tools: Sequence[ToolSpec],
        options: ServeOptions | None = None,
        context: ToolContext | None = None,
    ) -> None:
        self.options = options or ServeOptions()
        self.context = context or ToolContext(self.options)
        visible = [t for t in tools if not (t.management and self.options.agent_scoped)]
        self.tools = {t.name: t for t in visible}
        self._worker = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="animus-mcp-tool"
        )

    # -- protocol-independent core (tests and the bench call these directly too) ------------

    def call(self, name: str, arguments: dict[str, Any] | None) -> tuple[dict[str, Any], bool]:
        """Run one tool synchronously: ``(envelope, is_error)``."""
        spec = self.tools.get(name)
        try:
            if spec is None:
                raise NotFoundError(
                    f"no tool named {name!r}",
                    code="unknown_tool",
                    details={"tool": name},
                    hint="tools/list shows the tools of this server",
                )
            try:
                args = spec.input_model.model_validate(arguments or {})
            except ValidationError as exc:
                raise schema_error(name, exc) from None
            data = spec.handler(self.context, args)
            return success_envelope_of(data), False
        except Exception as exc:
            return error_envelope_of(as_error(name, exc)), True

    def read(self, uri: str) -> tuple[dict[str, Any], bool]:
        """Read one resource synchronously: ``(envelope, is_error)``."""
        try:
            return success_envelope_of(read_resource(self.context, uri)), False
        except Exception as exc:
            return error_envelope_of(as_error(uri, exc)), True

    def list_tools(self) -> list[types.Tool]:
        return [
            types.Tool(
                name=spec.name,
                description=spec.description,
                input_schema=spec.input_schema(),
                annotations=types.ToolAnnotations(
                    read_only_hint=spec.read_only, destructive_hint=not spec.read_only
                ),
            )
            for spec in self.tools.values()
        ]

    # -- MCP handlers ------------------------------------------------------------------------

    async def _on_list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self.list_tools())

    async def _on_call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        loop = asyncio.get_running_loop()
        envelope, is_error = await loop.run_in_executor(
            self._worker, functools.partial(self.call, params.name, params.arguments)
        )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=dumps(envelope))],
            structured_content=envelope,
            is_error=is_error,
        )

    async def _on_list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=uri, name=uri.rsplit("/", 1)[-1], description=text, mime_type=_JSON
                )
                for uri, text in RESOURCES.items()
            ]
        )

    async def _on_list_resource_templates(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=uri, name="daemon-events", description=text, mime_type=_JSON
                )
                for uri, text in TEMPLATES.items()
            ]
        )

    async def _on_read_resource(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        from mcp.shared.exceptions import MCPError

        loop = asyncio.get_running_loop()
        envelope, is_error = await loop.run_in_executor(
            self._worker, functools.partial(self.read, params.uri)
        )
        if is_error:
            # Resources have no isError flag: a failed read is a JSON-RPC error whose data
            # is the same error envelope a tool would return.
            code = (
                _RESOURCE_NOT_FOUND
                if envelope["error"]["category"] == "not_found"
                else (_INVALID_PARAMS)
            )
            raise MCPError(code, envelope["error"]["message"], envelope)
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(uri=params.uri, mime_type=_JSON, text=dumps(envelope))
            ]
        )

    def lowlevel(self) -> Server[Any]:
        from mcp.server.lowlevel import Server

        return Server(
            "animus",
            version=__version__,
            title="Animus",
            instructions=_INSTRUCTIONS,
            get_tool_input_schema=self._input_schema,
            on_list_tools=self._on_list_tools,
            on_call_tool=self._on_call_tool,
            on_list_resources=self._on_list_resources,
            on_list_resource_templates=self._on_list_resource_templates,
            on_read_resource=self._on_read_resource,
        )

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        spec = self.tools.get(name)
        return None if spec is None else spec.input_schema()

    # -- transports --------------------------------------------------------------------------

    async def serve_stdio(self) -> None:
        from mcp.server.stdio import stdio_server

        server = self.lowlevel()
        try:
            async with stdio_server() as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())
        finally:
            self._worker.shutdown(wait=False, cancel_futures=True)

    async def serve_http(self, host: str, port: int, path: str = "/mcp") -> None:
        import uvicorn

        app = self.lowlevel().streamable_http_app(streamable_http_path=path, host=host)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning")
        try:
            await uvicorn.Server(config).serve()
        finally:
            self._worker.shutdown(wait=False, cancel_futures=True)
