"""Shared model base and small value types of the workflow YAML schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Budget",
    "NonEmptyStr",
    "OnExceed",
    "ReasoningEffort",
    "Risk",
    "StrictModel",
    "Verdict",
    "WorktreeSpec",
]

NonEmptyStr = Annotated[str, Field(min_length=1)]
Verdict = Literal["advance", "rework", "skip", "fail"]
Risk = Literal["low", "medium", "high"]
ReasoningEffort = Literal["low", "medium", "high"]
OnExceed = Literal["pause", "fail", "warn"]


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Budget(StrictModel):
    """Token and cost ceiling; ``on_exceed`` decides what happens when it is crossed."""

    max_tokens: Annotated[int, Field(gt=0)] | None = None
    max_cost_usd: Annotated[float, Field(gt=0)] | None = None
    on_exceed: OnExceed = "pause"


class WorktreeSpec(StrictModel):
    """Where a run's changes are made. Short forms: ``skip``/``auto``/``required``, and
    ``true`` (= required) / ``false`` (= skip)."""

    mode: Literal["auto", "required", "skip"] = "auto"
    cleanup: bool = True
    base_ref: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return {"mode": "required" if value else "skip"}
        if isinstance(value, str):
            return {"mode": value}
        return value
