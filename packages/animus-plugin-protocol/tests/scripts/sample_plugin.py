"""A small plugin written only against animus-plugin-protocol, driven by the runtime tests."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from animus_plugin_protocol import AgentRunRequest, RpcError
from animus_plugin_protocol.runtime import Plugin, RequestContext

plugin = Plugin(
    "animus-sample",
    "0.1.0",
    "custom",
    "Sample plugin for the runtime tests",
    env_required=["SAMPLE_TOKEN"],
    capabilities=["$harness/oai-style"],
    notification_buffer_size=64,
)


@plugin.method("sample/echo")
async def echo(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    return {"params": params, "project_root": ctx.project_root}


@plugin.method("sample/sleep")
async def sleep(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    await asyncio.sleep(float(params["secs"]))
    return {"slept": params["secs"]}


@plugin.method("sample/wait_for_cancel")
async def wait_for_cancel(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    marker = Path(params["marker"])
    try:
        await asyncio.sleep(30)
    finally:
        # Cleanup runs on cancel: prove it by leaving a file behind.
        text = "cancelled" if ctx.cancelled.is_set() else "ended"
        await asyncio.to_thread(marker.write_text, text)
    return {}


@plugin.method("sample/print")
async def stray_print(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    print("stray print from a handler")
    sys.stdout.write("stray sys.stdout write\n")
    os.write(1, b"stray fd 1 write\n")
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "print('stray child output')"
    )
    await child.wait()
    return {"ok": True}


@plugin.method("sample/fail")
async def fail(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    raise ValueError("boom")


@plugin.method("sample/rpc_error")
async def rpc_error(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    raise RpcError(-32001, "subject/delete is not supported here", category="unsupported")


@plugin.method("sample/notify")
async def notify(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    for n in range(int(params.get("count", 3))):
        ctx.notify("sample/progress", {"n": n})
    return {"sent": params.get("count", 3)}


@plugin.method("sample/validate")
async def validate(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    request = AgentRunRequest.model_validate(params)
    return {"prompt": request.prompt}


if __name__ == "__main__":
    plugin.main()
