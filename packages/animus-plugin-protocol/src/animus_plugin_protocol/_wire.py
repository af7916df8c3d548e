"""The base class every wire model derives from, and the serialization rules it enforces.

Rust serializers on the other side omit absent optionals rather than writing ``null`` and
skip several lists and maps when they are empty; `WireModel.to_wire` does the same so a
Python plugin's frames are byte-for-byte what a Rust host expects.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

__all__ = ["StrictWireModel", "WireModel"]


class WireModel(BaseModel):
    """A JSON object on the wire: unknown keys pass through, required keys are enforced.

    Class-level knobs (never sent on the wire):

    * ``omit_if_empty`` - field names dropped from the output when they are empty
      (``[]`` / ``{}``), mirroring ``skip_serializing_if = "is_empty"``.
    * ``keep_null`` - field names that keep an explicit ``null`` when the caller set it
      (``SubjectPatch.assignee``: absent means untouched, ``null`` means clear) or that are
      always written (``SuccessResponse.result``).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        protected_namespaces=(),
        use_enum_values=False,
        defer_build=True,
    )

    omit_if_empty: ClassVar[frozenset[str]] = frozenset()
    keep_null: ClassVar[frozenset[str]] = frozenset()
    always_write: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _serialize_wire(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        cls = type(self)
        for name in cls.omit_if_empty:
            key = _wire_key(cls, name, info)
            value = data.get(key)
            if key in data and isinstance(value, (list, dict)) and not value:
                del data[key]
        for name in cls.keep_null | cls.always_write:
            key = _wire_key(cls, name, info)
            explicitly_set = name in self.model_fields_set or name in cls.always_write
            if key not in data and explicitly_set and getattr(self, name) is None:
                data[key] = None
        return data

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict this model puts on the wire (absent optionals omitted)."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert isinstance(data, dict)
        return data

    def to_json(self) -> str:
        """Compact JSON text of `to_wire` (no trailing newline)."""
        return self.model_dump_json(by_alias=True, exclude_none=True)


class StrictWireModel(WireModel):
    """A wire object whose unknown keys are rejected (used where extras would hide a typo)."""

    model_config = ConfigDict(extra="forbid")


def _wire_key(cls: type[BaseModel], name: str, info: SerializationInfo) -> str:
    field = cls.model_fields.get(name)
    if field is not None and field.alias and info.by_alias:
        return field.alias
    return name
