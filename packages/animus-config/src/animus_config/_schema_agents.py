"""MCP servers, agent profiles, agent channels and the phase catalog."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from animus_config._schema_base import NonEmptyStr, ReasoningEffort, StrictModel

__all__ = [
    "AgentChannel",
    "AgentProfile",
    "ApprovalPolicy",
    "Communication",
    "McpOAuth",
    "McpServer",
    "Memory",
    "Persona",
    "PhaseCatalogEntry",
    "ToolPolicy",
]

SYSTEM_PROMPT_FILE_MAX_BYTES = 1024 * 1024


class McpOAuth(StrictModel):
    flow: Literal["client_credentials", "refresh_token", "manual_bearer", "authorization_code"]
    token_url: str | None = None
    client_id_env: str | None = None
    client_secret_env: str | None = None
    refresh_token_env: str | None = None
    bearer_env: str | None = None
    scopes: list[str] = Field(default_factory=list)
    audience: str | None = None
    cache: bool = True


class McpServer(StrictModel):
    """A stdio server (``command``) or an HTTP one (``transport: http`` + ``url``)."""

    command: NonEmptyStr | None = None
    transport: Literal["stdio", "http"] | None = None
    url: NonEmptyStr | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    tools: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)
    oauth: McpOAuth | None = None

    @model_validator(mode="after")
    def _command_or_url(self) -> McpServer:
        if self.transport == "http":
            if not self.url:
                raise ValueError("an http MCP server needs 'url'")
        elif not self.command:
            raise ValueError("an MCP server needs 'command' (stdio) or 'transport: http' + 'url'")
        return self


class Persona(StrictModel):
    style: str | None = None
    traits: list[str] = Field(default_factory=list)
    instructions: str | None = None
    customizations: dict[str, Any] = Field(default_factory=dict)


class Memory(StrictModel):
    enabled: bool = False
    scope: str | None = None
    max_context_chars: Annotated[int, Field(gt=0)] | None = None
    max_entries: Annotated[int, Field(gt=0)] | None = None
    write_policy: Literal["explicit", "phase_summary"] = "explicit"


class Communication(StrictModel):
    enabled: bool = False
    channels: list[str] = Field(default_factory=list)
    can_message: list[str] = Field(default_factory=list)
    max_context_chars: Annotated[int, Field(gt=0)] | None = None


class ToolPolicy(StrictModel):
    allow: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)
    mode: str | None = None
    allowed: list[str] = Field(default_factory=list)


class ApprovalPolicy(StrictModel):
    auto_allow: list[str] = Field(default_factory=list)
    auto_deny: list[str] = Field(default_factory=list)
    default: Literal["ask", "allow", "deny", "llm"] = "ask"
    evaluator_model: str | None = None
    evaluator_instructions: str | None = None


class Hooks(StrictModel):
    policy_rules: list[Any] = Field(default_factory=list)
    observers: list[Any] = Field(default_factory=list)


class AgentProfile(StrictModel):
    """One agent: which CLI (``tool``) and model it runs, its prompt and its limits."""

    name: str | None = None
    description: str | None = None
    system_prompt: str | None = None
    system_prompt_file: NonEmptyStr | None = None
    role: str | None = None
    persona: Persona | None = None
    memory: Memory | None = None
    communication: Communication | None = None
    model: NonEmptyStr | None = None
    models: list[str] = Field(default_factory=list)
    tool: NonEmptyStr | None = None
    tool_profile: str | None = None
    fallback_models: list[str] = Field(default_factory=list)
    fallback_tools: list[str] = Field(default_factory=list)
    reasoning_effort: ReasoningEffort | None = None
    permission_mode: str | None = None
    web_search: bool | None = None
    network_access: bool | None = None
    timeout_secs: Annotated[int, Field(gt=0)] | None = None
    max_attempts: Annotated[int, Field(gt=0)] | None = None
    retry_on: list[str] = Field(default_factory=list)
    no_retry_on: list[str] = Field(default_factory=list)
    extra_args: list[str] = Field(default_factory=list)
    codex_config_overrides: list[str] = Field(default_factory=list)
    max_continuations: Annotated[int, Field(ge=0)] | None = None
    mcp_servers: list[str] = Field(default_factory=list)
    animus_mcp: bool | None = None
    """Whether the agent gets the built-in ``animus`` MCP server by default (``None``: yes).

    ``false`` opts out; so does an explicit ``mcp_servers: []`` unless ``animus_mcp`` is
    set too. Naming ``animus`` in ``mcp_servers`` always includes it.
    """
    skills: list[str] = Field(default_factory=list)
    capabilities: dict[str, bool] = Field(default_factory=dict)
    tool_policy: ToolPolicy | None = None
    approval_policy: ApprovalPolicy | None = None
    hooks: Hooks | None = None
    project_overrides: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _empty_mcp_servers_opts_out(cls, data: Any) -> Any:
        # An explicit empty list says "no MCP servers at all", the built-in one included;
        # recorded as animus_mcp=false so the compiled config (plain dicts) still says it.
        if isinstance(data, dict) and data.get("mcp_servers") == [] and "animus_mcp" not in data:
            return {**data, "animus_mcp": False}
        return data

    @model_validator(mode="after")
    def _one_prompt_source(self) -> AgentProfile:
        if self.system_prompt is not None and self.system_prompt_file is not None:
            raise ValueError("set either 'system_prompt' or 'system_prompt_file', not both")
        return self


class AgentChannel(StrictModel):
    description: str | None = None
    participants: Annotated[list[str], Field(min_length=1)]
    max_context_chars: Annotated[int, Field(gt=0)] | None = None


class PhaseCatalogEntry(StrictModel):
    """UI metadata about a phase; has no effect on execution."""

    label: str | None = None
    description: str | None = None
    category: Literal["planning", "development", "review", "verification"] | None = None
    icon: str | None = None
    docs_url: str | None = None
    tags: list[str] = Field(default_factory=list)
    visible: bool = True
