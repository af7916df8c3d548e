"""provider kind: ``agent/run``, ``agent/resume``, ``agent/cancel``, ``agent/respond``
and the streaming ``agent/*`` notifications (reference §2.1)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from animus_plugin_protocol._wire import WireModel

__all__ = [
    "METHOD_CANCEL",
    "METHOD_RESPOND",
    "METHOD_RESUME",
    "METHOD_RUN",
    "NOTIFY_ERROR",
    "NOTIFY_INTERACTION_REQUESTED",
    "NOTIFY_OUTPUT",
    "NOTIFY_THINKING",
    "NOTIFY_TOOL_CALL",
    "NOTIFY_TOOL_RESULT",
    "AgentCancelParams",
    "AgentCancelResult",
    "AgentError",
    "AgentInteractionRequested",
    "AgentOutput",
    "AgentRespondParams",
    "AgentRespondResult",
    "AgentRunRequest",
    "AgentRunResponse",
    "AgentThinking",
    "AgentToolCall",
    "AgentToolResult",
    "InteractionPayload",
    "InteractionResponse",
    "ResponseToolCall",
    "ResponseToolResult",
    "TokensUsed",
]

METHOD_RUN = "agent/run"
METHOD_RESUME = "agent/resume"
METHOD_CANCEL = "agent/cancel"
METHOD_RESPOND = "agent/respond"
NOTIFY_OUTPUT = "agent/output"
NOTIFY_THINKING = "agent/thinking"
NOTIFY_TOOL_CALL = "agent/toolCall"
NOTIFY_TOOL_RESULT = "agent/toolResult"
NOTIFY_ERROR = "agent/error"
NOTIFY_INTERACTION_REQUESTED = "agent/interactionRequested"


class AgentRunRequest(WireModel):
    """Params of ``agent/run`` and ``agent/resume``; unknown keys are the flattened extras."""

    omit_if_empty: ClassVar[frozenset[str]] = frozenset({"env"})

    prompt: str
    cwd: str
    session_id: str | None = None
    model: str | None = None
    system_prompt: str | None = None
    permission_mode: str | None = None
    project_root: str | None = None
    timeout_secs: int | None = Field(default=None, ge=0)
    env: dict[str, str] = Field(default_factory=dict)
    mcp_servers: Any = None
    tools: Any = None
    response_schema: Any = None
    runtime_contract: Any = None

    @property
    def extras(self) -> dict[str, Any]:
        """Keys the protocol does not name (``claude_profile``, ``reasoning_effort``, ...)."""
        return dict(self.model_extra or {})


class TokensUsed(WireModel):
    input: int = Field(ge=0)
    output: int = Field(ge=0)
    cached: int | None = Field(default=None, ge=0)
    cache_writes: int | None = Field(default=None, ge=0)


class ResponseToolCall(WireModel):
    """An entry of ``AgentRunResponse.tool_calls``."""

    tool: str
    arguments: Any = None
    server: str | None = None


class ResponseToolResult(WireModel):
    """An entry of ``AgentRunResponse.tool_results``."""

    tool: str
    output: Any = None
    success: bool = True


class AgentRunResponse(WireModel):
    omit_if_empty: ClassVar[frozenset[str]] = frozenset(
        {"metadata", "tool_calls", "tool_results", "thinking", "errors"}
    )

    session_id: str
    exit_code: int
    output: str
    duration_ms: int = Field(ge=0)
    backend: str
    metadata: list[Any] = Field(default_factory=list)
    tool_calls: list[Any] = Field(default_factory=list)
    tool_results: list[Any] = Field(default_factory=list)
    thinking: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    tokens_used: TokensUsed | None = None
    decision_verdict: Any = None


class AgentOutput(WireModel):
    """``agent/output``: ``final`` (runtime spelling) and ``is_final`` (SDK) are kept equal."""

    kind: Literal["output"] = "output"
    session_id: str
    text: str
    final: bool = False
    is_final: bool = False

    @model_validator(mode="before")
    @classmethod
    def _mirror_final(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if "final" in data and "is_final" not in data:
                data = {**data, "is_final": data["final"]}
            elif "is_final" in data and "final" not in data:
                data = {**data, "final": data["is_final"]}
        return data


class AgentThinking(WireModel):
    kind: Literal["thinking"] = "thinking"
    session_id: str
    text: str


class AgentToolCall(WireModel):
    always_write: ClassVar[frozenset[str]] = frozenset({"server", "arguments"})

    kind: Literal["toolCall"] = "toolCall"
    session_id: str
    name: str
    arguments: Any = None
    server: str | None = None


class AgentToolResult(WireModel):
    always_write: ClassVar[frozenset[str]] = frozenset({"output"})

    kind: Literal["toolResult"] = "toolResult"
    session_id: str
    name: str
    output: Any = None
    success: bool


class AgentError(WireModel):
    kind: Literal["error"] = "error"
    session_id: str
    message: str
    recoverable: bool


class InteractionPayload(WireModel):
    action: str | None = None
    tool_name: str | None = None
    arguments: Any = None
    question: str | None = None
    options: list[Any] | None = None


class AgentInteractionRequested(WireModel):
    """``agent/interactionRequested``; here ``kind`` is the interaction's kind (approval,
    question, ...), not a notification tag."""

    interaction_id: str
    session_id: str
    kind: str
    payload: InteractionPayload = Field(default_factory=InteractionPayload)
    expires_at: str | None = None


class AgentCancelParams(WireModel):
    session_id: str


class AgentCancelResult(WireModel):
    session_id: str
    cancelled: bool = True


class InteractionResponse(WireModel):
    decision: str | None = None
    answer: str | None = None
    message: str | None = None


class AgentRespondParams(WireModel):
    interaction_id: str
    session_id: str
    response: InteractionResponse = Field(default_factory=InteractionResponse)


class AgentRespondResult(WireModel):
    accepted: bool
