"""The ``animus-provider-oai`` plugin: ``agent/run``, ``agent/resume``, ``agent/cancel``."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from animus_plugin_protocol import AgentRunRequest, AgentRunResponse, PluginKind, RpcError
from animus_plugin_protocol.kinds.provider import (
    METHOD_CANCEL,
    METHOD_RESUME,
    METHOD_RUN,
    AgentCancelParams,
    AgentCancelResult,
)
from animus_plugin_protocol.runtime import Plugin, RequestContext

from ._loop import AgentLoop, LoopSettings
from ._store import STATE_DIR_VAR, Conversation, ConversationStore, state_dir_for
from ._tools import ToolBox

__all__ = [
    "BACKEND",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_ITERATIONS",
    "ENV_REQUIRED",
    "PLUGIN_NAME",
    "VERSION",
    "OaiProvider",
    "main",
    "repair_dangling_tool_calls",
]

PLUGIN_NAME = "animus-provider-oai"
VERSION = "0.1.0"
BACKEND = "oai:chat-completions"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MAX_ITERATIONS = 50
_BASE_URL_VARS = ("OAI_BASE_URL", "OPENAI_BASE_URL")
_KEY_VARS = ("OAI_API_KEY", "OPENAI_API_KEY")

ENV_REQUIRED: list[dict[str, Any]] = [
    {"name": "OAI_API_KEY", "description": "API key of the endpoint", "sensitive": True},
    {"name": "OPENAI_API_KEY", "description": "API key (fallback)", "sensitive": True},
    {"name": "OAI_BASE_URL", "description": "OpenAI-compatible base URL (.../v1)"},
    {"name": "OPENAI_BASE_URL", "description": "base URL (fallback)"},
    {"name": STATE_DIR_VAR, "description": "where conversations are kept"},
    {"name": "ANIMUS_HOME", "description": "Animus home (conversations in oai-sessions/)"},
    {"name": "HTTPS_PROXY", "description": "proxy for the endpoint"},
    {"name": "SSL_CERT_FILE", "description": "CA bundle"},
]

_DEFAULT_SYSTEM_PROMPT = (
    "You are a coding agent working in the directory {cwd}. Use the tools to inspect and "
    "change files (paths are relative to that directory) and to run shell commands there. "
    "When the task is done, answer with a short summary of what you did."
)


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = env.get(name)
        if value:
            return value
    return None


def repair_dangling_tool_calls(messages: list[dict[str, Any]]) -> int:
    """Answer tool calls whose results were never saved (a crash or cancel mid-tool).

    Chat completions endpoints reject a conversation where an assistant ``tool_calls`` entry
    has no ``tool`` message; the repair says the call was interrupted. Returns how many.
    """
    repaired = 0
    index = 0
    while index < len(messages):
        message = messages[index]
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        if isinstance(calls, list) and calls:
            answered = set()
            after = index + 1
            while after < len(messages) and messages[after].get("role") == "tool":
                answered.add(messages[after].get("tool_call_id"))
                after += 1
            missing = [
                {
                    "role": "tool",
                    "tool_call_id": call.get("id"),
                    "content": "error: interrupted before the tool finished",
                }
                for call in calls
                if isinstance(call, dict) and call.get("id") not in answered
            ]
            messages[after:after] = missing
            repaired += len(missing)
            index = after + len(missing)
        else:
            index += 1
    return repaired


class _Running:
    def __init__(self, task: asyncio.Task[AgentRunResponse]) -> None:
        self.task = task
        self.cancel_requested = False


class OaiProvider(Plugin):
    """An agent loop of its own against an OpenAI-compatible chat completions endpoint."""

    def __init__(self) -> None:
        super().__init__(
            PLUGIN_NAME,
            VERSION,
            PluginKind.PROVIDER,
            "OpenAI-compatible chat completions agent (own tool loop, resumable)",
            env_required=ENV_REQUIRED,
            streaming=True,
        )
        self._running: dict[str, _Running] = {}
        self.method(METHOD_RUN)(self._agent_run)
        self.method(METHOD_RESUME)(self._agent_resume)
        self.method(METHOD_CANCEL)(self._agent_cancel)

    async def _agent_run(self, params: dict[str, Any], ctx: RequestContext) -> AgentRunResponse:
        return await self.run_request(AgentRunRequest.model_validate(params), ctx, resume=False)

    async def _agent_resume(self, params: dict[str, Any], ctx: RequestContext) -> AgentRunResponse:
        request = AgentRunRequest.model_validate(params)
        if not request.session_id:
            raise RpcError.invalid_params("agent/resume needs the 'session_id' to resume")
        return await self.run_request(request, ctx, resume=True)

    async def _agent_cancel(self, params: dict[str, Any], ctx: RequestContext) -> AgentCancelResult:
        request = AgentCancelParams.model_validate(params)
        running = self._running.get(request.session_id)
        if running is None:
            return AgentCancelResult(session_id=request.session_id, cancelled=False)
        running.cancel_requested = True
        running.task.cancel()
        # Wait (bounded) until the run really stopped: HTTP aborted, shell group killed.
        await asyncio.wait({running.task}, timeout=5.0)
        return AgentCancelResult(session_id=request.session_id, cancelled=True)

    def _settings(self, request: AgentRunRequest, model: str) -> LoopSettings:
        env = dict(os.environ)
        env.update({k: v for k, v in request.env.items() if k in (*_BASE_URL_VARS, *_KEY_VARS)})
        extras = request.extras
        api_key = _first(env, _KEY_VARS)
        if api_key is None:
            raise RpcError.internal(
                "no API key for the OpenAI-compatible endpoint: set OAI_API_KEY (or "
                "OPENAI_API_KEY) in the plugin environment or the request env",
                category="session_start_failed",
            )
        base_url = extras.get("base_url") or _first(env, _BASE_URL_VARS) or DEFAULT_BASE_URL
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise RpcError.invalid_params(
                f"base URL {base_url!r} must be an http(s) URL like https://host/v1 "
                "(OAI_BASE_URL, OPENAI_BASE_URL or the base_url extra)"
            )
        max_iterations = extras.get("max_iterations", DEFAULT_MAX_ITERATIONS)
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int):
            raise RpcError.invalid_params("max_iterations must be a positive integer")
        if max_iterations < 1:
            raise RpcError.invalid_params("max_iterations must be a positive integer")
        temperature = extras.get("temperature")
        if temperature is not None and (
            isinstance(temperature, bool) or not isinstance(temperature, int | float)
        ):
            raise RpcError.invalid_params("temperature must be a number")
        extra_body: dict[str, Any] = {}
        effort = extras.get("reasoning_effort")
        if effort is not None:
            extra_body["reasoning_effort"] = effort
        return LoopSettings(
            base_url=base_url,
            api_key=api_key,
            model=model,
            backend=BACKEND,
            max_iterations=max_iterations,
            temperature=float(temperature) if temperature is not None else None,
            extra_body=extra_body,
        )

    def _shell_env(self) -> dict[str, str]:
        """The plugin's environment minus the endpoint's secrets (commands never see them)."""
        return {k: v for k, v in os.environ.items() if k not in _KEY_VARS}

    def _prepare(
        self, request: AgentRunRequest, *, resume: bool
    ) -> tuple[Conversation, ConversationStore, Path, LoopSettings]:
        """Validate the request and load or start its conversation (prompt appended)."""
        cwd = Path(request.cwd)
        if not cwd.is_dir():
            raise RpcError.invalid_params(f"cwd {request.cwd!r} is not an existing directory")
        cwd = cwd.resolve()
        store = ConversationStore(state_dir_for(request.extras, os.environ))
        if resume:
            assert request.session_id is not None
            conversation = store.load(request.session_id)
            repair_dangling_tool_calls(conversation.messages)
            model = request.model or conversation.model
            if not model:
                raise RpcError.invalid_params("agent/resume needs a 'model' (none was saved)")
            if request.system_prompt:
                conversation.messages.append({"role": "system", "content": request.system_prompt})
        else:
            session_id = request.session_id or str(uuid.uuid4())
            ConversationStore.check_id(session_id)
            if store.exists(session_id):
                raise RpcError.invalid_params(
                    f"conversation {session_id!r} already exists in {store.directory}; "
                    "continue it with agent/resume or pick another session_id",
                    category="invalid_request",
                )
            if not request.model:
                raise RpcError.invalid_params(
                    "agent/run needs a 'model' (the endpoint's model name)"
                )
            model = request.model
            system = request.system_prompt or _DEFAULT_SYSTEM_PROMPT.format(cwd=cwd)
            conversation = Conversation(
                session_id, model, str(cwd), [{"role": "system", "content": system}]
            )
        settings = self._settings(request, model)
        conversation.model = model
        conversation.messages.append({"role": "user", "content": request.prompt})
        return conversation, store, cwd, settings

    async def run_request(
        self, request: AgentRunRequest, ctx: RequestContext, *, resume: bool
    ) -> AgentRunResponse:
        conversation, store, cwd, settings = self._prepare(request, resume=resume)
        sid = conversation.session_id
        if sid in self._running:
            raise RpcError.invalid_params(
                f"session {sid!r} is already running", category="invalid_request"
            )
        store.save(conversation)  # the prompt is on disk before anything runs
        loop = AgentLoop(
            conversation,
            store=store,
            tools=ToolBox(cwd, shell_env=self._shell_env()),
            settings=settings,
            notify=ctx.notify,
        )
        task = asyncio.ensure_future(self._bounded(loop, request.timeout_secs))
        running = _Running(task)
        self._running[sid] = running
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if running.cancel_requested:
                raise RpcError.cancelled(f"agent run {sid} was cancelled") from None
            task.cancel()  # $/cancelRequest or shutdown: stop the loop too
            await asyncio.wait({task}, timeout=5.0)
            raise
        finally:
            if self._running.get(sid) is running:
                del self._running[sid]

    @staticmethod
    async def _bounded(loop: AgentLoop, timeout_secs: int | None) -> AgentRunResponse:
        try:
            return await asyncio.wait_for(loop.run(), timeout=timeout_secs or None)
        except TimeoutError:
            raise RpcError.timeout(
                f"agent run {loop.session_id} timed out after {timeout_secs}s; the "
                "conversation is saved"
            ) from None


def main() -> None:
    OaiProvider().main()
