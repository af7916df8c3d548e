"""Tool names, the provider plugin that serves each, and default models."""

from __future__ import annotations

__all__ = [
    "BUILTIN_TOOLS",
    "DEFAULT_MODELS",
    "PROVIDER_PREFIX",
    "default_model",
    "normalize_tool",
    "provider_plugin_name",
]

PROVIDER_PREFIX = "animus-provider-"
BUILTIN_TOOLS = ("claude", "codex", "gemini", "opencode", "oai", "mock")
_ALIASES = {"oai-runner": "oai", "animus-oai-runner": "oai"}
DEFAULT_MODELS: dict[str, str] = {
    "claude": "claude-sonnet-4-6",
    "codex": "gpt-5.4",
    "gemini": "gemini-2.5-pro",
    "opencode": "zai-coding-plan/glm-5",
    "oai": "openrouter/minimax/minimax-m2.7",
}


def normalize_tool(tool: str) -> str:
    """``oai-runner`` / ``animus-oai-runner`` -> ``oai``; ``animus-provider-x`` -> ``x``."""
    name = tool.strip().lower()
    if name.startswith(PROVIDER_PREFIX):
        name = name[len(PROVIDER_PREFIX) :]
    return _ALIASES.get(name, name)


def provider_plugin_name(tool: str) -> str:
    """The provider plugin that serves ``tool``: ``animus-provider-<tool>``."""
    return f"{PROVIDER_PREFIX}{normalize_tool(tool)}"


def default_model(tool: str) -> str | None:
    """The model used when a request names none (``None``: the provider decides)."""
    return DEFAULT_MODELS.get(normalize_tool(tool))
