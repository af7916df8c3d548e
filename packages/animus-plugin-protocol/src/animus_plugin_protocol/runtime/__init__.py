"""The plugin-author runtime: declare a plugin, register handlers, call ``plugin.main()``.

plugin = Plugin("animus-echo", "0.1.0", "custom", "Echoes its params")

@plugin.method("echo/say")
async def say(params: dict, ctx: RequestContext) -> dict:
    ctx.notify("echo/said", {"text": params.get("text")})
    return {"text": params.get("text")}

if __name__ == "__main__":
    plugin.main()
"""

from __future__ import annotations

from ._context import RequestContext
from ._plugin import Handler, NotificationHandler, Plugin

__all__ = ["Handler", "NotificationHandler", "Plugin", "RequestContext"]
