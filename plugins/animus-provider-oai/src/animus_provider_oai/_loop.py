"""The agent loop: ask the model, run the tools it calls, feed the results back, repeat.

The conversation is saved after every model turn and every tool result, so a crash or a
cancel loses at most the step in flight and ``agent/resume`` continues from the file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from animus_plugin_protocol import AgentRunResponse, ErrorCode, RpcError, TokensUsed
from animus_plugin_protocol.kinds.provider import (
    NOTIFY_ERROR,
    NOTIFY_OUTPUT,
    NOTIFY_THINKING,
    NOTIFY_TOOL_CALL,
    NOTIFY_TOOL_RESULT,
    AgentError,
    AgentOutput,
    AgentThinking,
    AgentToolCall,
    AgentToolResult,
    ResponseToolCall,
    ResponseToolResult,
)

from ._client import ModelError, stream_completion
from ._store import Conversation, ConversationStore
from ._tools import TOOL_SPECS, ToolBox

__all__ = ["AgentLoop", "LoopSettings"]

Notify = Callable[[str, Any], None]


@dataclass
class LoopSettings:
    base_url: str
    api_key: str
    model: str
    backend: str
    max_iterations: int = 50
    temperature: float | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


class AgentLoop:
    """One ``agent/run`` / ``agent/resume`` of the loop over a persisted conversation."""

    def __init__(
        self,
        conversation: Conversation,
        *,
        store: ConversationStore,
        tools: ToolBox,
        settings: LoopSettings,
        notify: Notify,
    ) -> None:
        self.conversation = conversation
        self.store = store
        self.tools = tools
        self.settings = settings
        self._notify = notify
        self._tool_calls: list[ResponseToolCall] = []
        self._tool_results: list[ResponseToolResult] = []
        self._thinking: list[str] = []
        self._errors: list[str] = []
        self._input = self._output = self._cached = 0
        self._usage_seen = False
        self.iterations = 0

    @property
    def session_id(self) -> str:
        return self.conversation.session_id

    def _error(self, message: str, *, recoverable: bool) -> None:
        self._errors.append(message)
        self._notify(
            NOTIFY_ERROR,
            AgentError(session_id=self.session_id, message=message, recoverable=recoverable),
        )

    def _on_text(self, text: str) -> None:
        self._notify(NOTIFY_OUTPUT, AgentOutput(session_id=self.session_id, text=text, final=False))

    def _tokens(self) -> TokensUsed | None:
        if not self._usage_seen:
            return None
        return TokensUsed(input=self._input, output=self._output, cached=self._cached or None)

    def _account(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        self._usage_seen = True
        self._input += _count(usage.get("prompt_tokens"))
        self._output += _count(usage.get("completion_tokens"))
        details = usage.get("prompt_tokens_details")
        if isinstance(details, dict):
            self._cached += _count(details.get("cached_tokens"))

    async def run(self) -> AgentRunResponse:
        started = time.monotonic()
        url = self.settings.base_url.rstrip("/") + "/chat/completions"
        body_base: dict[str, Any] = {
            "model": self.settings.model,
            "stream": True,
            "stream_options": {"include_usage": True},
            "tools": TOOL_SPECS,
            **self.settings.extra_body,
        }
        if self.settings.temperature is not None:
            body_base["temperature"] = self.settings.temperature
        timeout = httpx.Timeout(connect=30.0, read=600.0, write=60.0, pool=30.0)
        async with httpx.AsyncClient(timeout=timeout) as client:
            while True:
                if self.iterations >= self.settings.max_iterations:
                    message = (
                        f"stopped after {self.iterations} model turns without a final answer "
                        "(max_iterations); the conversation is saved, agent/resume continues it"
                    )
                    self._error(message, recoverable=False)
                    raise RpcError(
                        ErrorCode.INTERNAL_ERROR,
                        message,
                        category="run_failed",
                        data={"session_id": self.session_id, "iterations": self.iterations},
                    )
                self.iterations += 1
                body = {**body_base, "messages": self.conversation.messages}
                try:
                    turn = await stream_completion(
                        client,
                        url,
                        api_key=self.settings.api_key,
                        body=body,
                        on_text=self._on_text,
                        on_problem=lambda message: self._error(message, recoverable=True),
                    )
                except ModelError as exc:
                    raise self._model_failure(exc) from None
                self._account(turn.usage)
                if turn.reasoning:
                    self._thinking.append(turn.reasoning)
                    self._notify(
                        NOTIFY_THINKING,
                        AgentThinking(session_id=self.session_id, text=turn.reasoning),
                    )
                self.conversation.messages.append(turn.assistant_message())
                self.store.save(self.conversation)
                if not turn.tool_calls:
                    return self._finish(turn.content, started)
                for call in turn.tool_calls:
                    await self._run_tool(call)

    async def _run_tool(self, call: dict[str, Any]) -> None:
        name = str(call["function"]["name"] or "unknown")
        raw = str(call["function"]["arguments"] or "")
        arguments, outcome = await self.tools.run(name, raw)
        self._tool_calls.append(ResponseToolCall(tool=name, arguments=arguments))
        self._notify(
            NOTIFY_TOOL_CALL,
            AgentToolCall(session_id=self.session_id, name=name, arguments=arguments),
        )
        self._tool_results.append(
            ResponseToolResult(tool=name, output=outcome.output, success=outcome.success)
        )
        self._notify(
            NOTIFY_TOOL_RESULT,
            AgentToolResult(
                session_id=self.session_id,
                name=name,
                output=outcome.output,
                success=outcome.success,
            ),
        )
        self.conversation.messages.append(
            {"role": "tool", "tool_call_id": call.get("id") or name, "content": outcome.output}
        )
        self.store.save(self.conversation)

    def _model_failure(self, exc: ModelError) -> RpcError:
        self._error(exc.message, recoverable=False)
        data = {"session_id": self.session_id, "status": exc.status}
        if exc.status == 404:
            return RpcError(
                ErrorCode.INVALID_PARAMS,
                f"model {self.settings.model!r} is not served: {exc.message}",
                category="model_not_supported",
                data=data,
            )
        category = "unavailable" if exc.status is None else "run_failed"
        return RpcError(ErrorCode.INTERNAL_ERROR, exc.message, category=category, data=data)

    def _finish(self, answer: str, started: float) -> AgentRunResponse:
        self._notify(
            NOTIFY_OUTPUT,
            AgentOutput(session_id=self.session_id, text=answer, final=True, is_final=True),
        )
        tokens = self._tokens()
        metadata = {
            "type": "oai_usage",
            "session_id": self.session_id,
            "model": self.settings.model,
            "iterations": self.iterations,
            "tokens_used": tokens.to_wire() if tokens is not None else None,
            "conversation": str(self.store.path_of(self.session_id)),
        }
        return AgentRunResponse(
            session_id=self.session_id,
            exit_code=0,
            output=answer,
            duration_ms=int((time.monotonic() - started) * 1000),
            backend=self.settings.backend,
            metadata=[metadata],
            tool_calls=self._tool_calls,
            tool_results=self._tool_results,
            thinking=self._thinking,
            errors=self._errors,
            tokens_used=tokens,
        )
