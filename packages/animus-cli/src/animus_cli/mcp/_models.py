"""The base of every tool's input model and the registry entry of one tool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ToolInput", "ToolSpec"]


class ToolInput(BaseModel):
    """Unknown arguments are rejected: a misspelled field must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    project_root: str | None = Field(
        None,
        description="Project to act on (default: the project the server was started for).",
    )


@dataclass(frozen=True)
class ToolSpec:
    """One ``animus.<family>.<verb>`` tool: its input model and the function serving it.

    ``handler(context, args)`` runs on the server's worker thread and returns the same data
    the CLI prints under ``--json``; it raises ``AnimusError`` for typed failures.
    ``management`` tools are withheld from agents (``--agent-id`` without ``--management``).
    """

    name: str
    description: str
    input_model: type[ToolInput]
    handler: Callable[[Any, Any], Any]
    read_only: bool = True
    management: bool = False

    def input_schema(self) -> dict[str, Any]:
        schema = self.input_model.model_json_schema()
        schema.pop("title", None)
        return schema
