"""Base classes for every model this package puts on a wire or in a state file."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict

__all__ = ["WireModel", "WireRequest"]


class WireModel(BaseModel):
    """A persisted or transmitted record.

    Field aliases are the wire names (``type``, ``schema``) and are used for both input and
    output; unknown keys are kept and written back, so a record produced by a newer version
    survives a read-modify-write by an older one. Assignments are validated, so a status
    set from a string or a naive datetime is normalised exactly as on load.
    """

    model_config = ConfigDict(
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        use_enum_values=False,
        validate_assignment=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict by wire name, absent optionals omitted (like the original)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_json(self) -> str:
        """Compact JSON of :meth:`to_wire`."""
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        """Validate a decoded JSON value (a dict) into this model."""
        return cls.model_validate(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        return cls.model_validate_json(text)


class WireRequest(WireModel):
    """A control-socket request or response: unknown keys from newer peers are ignored."""

    model_config = ConfigDict(extra="ignore")
