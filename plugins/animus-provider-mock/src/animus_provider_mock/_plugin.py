"""The ``animus-provider-mock`` plugin: ``agent/run``, ``agent/resume``, ``agent/cancel``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from animus_plugin_protocol import RpcError
from animus_plugin_protocol.runtime import Plugin, RequestContext
from animus_provider_mock._script import choose_script
from animus_provider_mock._session import MockRun, SessionState, new_session_id

__all__ = ["PLUGIN_NAME", "build_plugin"]

PLUGIN_NAME = "animus-provider-mock"
VERSION = "0.1.0"


class MockProvider:
    """Per-process state: sessions by id and the runs currently executing."""

    def __init__(self) -> None:
        self.sessions: dict[str, SessionState] = {}
        self.active: dict[str, MockRun] = {}

    def _cwd(self, params: dict[str, Any]) -> Path:
        raw = params.get("cwd")
        if not isinstance(raw, str) or not raw:
            raise RpcError.invalid_params("agent request needs a 'cwd' string")
        cwd = Path(raw)
        if not cwd.is_dir():
            raise RpcError.invalid_params(f"cwd {raw!r} is not a directory")
        return cwd

    async def turn(self, params: dict[str, Any], ctx: RequestContext, resume: bool) -> Any:
        if not isinstance(params.get("prompt"), str):
            raise RpcError.invalid_params("agent request needs a 'prompt' string")
        cwd = self._cwd(params)
        sid = params.get("session_id")
        if resume and not isinstance(sid, str):
            raise RpcError.invalid_params("agent/resume needs a 'session_id'")
        state = self.sessions.get(sid) if isinstance(sid, str) else None
        if state is not None and state.session_id in self.active:
            raise RpcError(-32600, f"session {sid} is already running", category="conflict")
        if state is None or not resume:
            state = SessionState(
                sid if isinstance(sid, str) else new_session_id(), choose_script(params)
            )
            self.sessions[state.session_id] = state
        if resume and state.script.resume is not None and state.finished:
            steps, start = state.script.resume, 0
        elif resume and not state.finished:
            steps, start = state.script.steps, state.next_step  # continue where it stopped
        else:
            steps, start = state.script.steps, 0
        raw_env = params.get("env")
        env: dict[str, Any] = raw_env if isinstance(raw_env, dict) else {}
        run = MockRun(
            state, steps, start, cwd, {str(k): str(v) for k, v in env.items()}, ctx.notify
        )
        self.active[state.session_id] = run
        try:
            return await run.execute()
        finally:
            self.active.pop(state.session_id, None)

    async def cancel(self, params: dict[str, Any]) -> Any:
        sid = params.get("session_id")
        if not isinstance(sid, str):
            raise RpcError.invalid_params("agent/cancel needs a 'session_id'")
        run = self.active.get(sid)
        if run is None:
            return {"session_id": sid, "cancelled": False}
        run.cancel_event.set()
        return {"session_id": sid, "cancelled": True}


def build_plugin() -> Plugin:
    provider = MockProvider()
    plugin = Plugin(
        PLUGIN_NAME,
        VERSION,
        "provider",
        "Deterministic scripted provider for demos and tests",
        env_required=[
            {"name": "ANIMUS_MOCK_SCRIPT_DIR", "description": "directory of mock scripts"},
        ],
        streaming=True,
    )

    @plugin.method("agent/run")
    async def run(params: dict[str, Any], ctx: RequestContext) -> Any:
        return await provider.turn(params, ctx, resume=False)

    @plugin.method("agent/resume")
    async def resume(params: dict[str, Any], ctx: RequestContext) -> Any:
        return await provider.turn(params, ctx, resume=True)

    @plugin.method("agent/cancel")
    async def cancel(params: dict[str, Any], ctx: RequestContext) -> Any:
        return await provider.cancel(params)

    return plugin


def main() -> None:
    build_plugin().main()
