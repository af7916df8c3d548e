from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, TypeAdapter

import animus_protocol
from animus_protocol import (
    AGENT_RUN_EVENT_ADAPTER,
    PHASE_EVENT_ADAPTER,
    InvalidInputError,
    control,
    format_id,
    format_rfc3339,
    next_requirement_id,
    next_task_id,
    parse_duration,
    parse_requirement_number,
    parse_rfc3339,
    parse_task_number,
    to_utc,
    utc_now,
)

# ------------------------------------------------------------------------------ time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("500ms", timedelta(milliseconds=500)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 1.5H ", timedelta(hours=1.5)),
        ("45", timedelta(seconds=45)),
        ("0s", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_bare_number_uses_the_callers_unit() -> None:
    assert parse_duration("30", bare_unit="d") == timedelta(days=30)
    assert parse_duration(90) == timedelta(seconds=90)
    assert parse_duration(1.5, bare_unit="h") == timedelta(minutes=90)


@pytest.mark.parametrize("bad", ["", "  ", "abc", "5x", "-5m", "m5", "5m-", "1h 30m", "1..5s"])
def test_bad_durations_name_accepted_forms(bad: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_duration(bad)
    assert "30s, 5m, 12h, 7d" in info.value.message
    assert info.value.exit_code == 2


def test_bad_duration_types_and_units() -> None:
    with pytest.raises(InvalidInputError, match="negative"):
        parse_duration(-1)
    with pytest.raises(InvalidInputError):
        parse_duration(True)
    with pytest.raises(InvalidInputError, match="unknown duration unit"):
        parse_duration("5", bare_unit="y")


def test_rfc3339_format_is_fixed_width_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_rfc3339(datetime(2026, 1, 2, 5, 4, 5, tzinfo=plus_two)) == (
        "2026-01-02T03:04:05.000000Z"
    )
    assert format_rfc3339(datetime(2026, 1, 2, 3, 4, 5, 7)) == "2026-01-02T03:04:05.000007Z"
    now = utc_now()
    assert now.tzinfo is UTC
    assert parse_rfc3339(format_rfc3339(now)) == now


@pytest.mark.parametrize(
    "text",
    ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000000+00:00", "2026-01-02T05:04:05+02:00"],
)
def test_parse_rfc3339_forms(text: str) -> None:
    assert parse_rfc3339(text) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_parse_rfc3339_rejects_garbage() -> None:
    with pytest.raises(InvalidInputError, match="expected RFC 3339"):
        parse_rfc3339("yesterday")
    assert to_utc(datetime(2026, 1, 1)).tzinfo is UTC


# ------------------------------------------------------------------------------- ids


def test_ids() -> None:
    assert next_task_id(0) == "TASK-001"
    assert next_task_id(41) == "TASK-042"
    assert next_task_id(999) == "TASK-1000"
    assert next_task_id(-3) == "TASK-001"
    assert next_requirement_id(9) == "REQ-010"
    assert parse_task_number("TASK-007") == 7
    assert parse_task_number("task-1234") == 1234
    assert parse_requirement_number("REQ-002") == 2
    assert format_id("RUN", 5) == "RUN-005"


@pytest.mark.parametrize("bad", ["TASK", "TASK-", "TASK-x", "REQ-001", "7", "TASK-1-2", ""])
def test_bad_task_ids(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="expected TASK-<number>"):
        parse_task_number(bad)


def test_format_id_rejects_zero() -> None:
    with pytest.raises(InvalidInputError):
        format_id("TASK", 0)


# ---------------------------------------------------------------------------- schema


def _models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module in (animus_protocol, control):
        # The namespaces are lazy (PEP 562): their public names, not what is loaded yet.
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj is not BaseModel:
                found[f"{module.__name__}.{name}"] = obj
    return [found[k] for k in sorted(found)]


MODELS = _models()


def test_there_are_many_models() -> None:
    assert len(MODELS) > 80


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_json_schema_generates(model: type[BaseModel]) -> None:
    schema = model.model_json_schema(mode="validation")
    json.dumps(schema)
    assert schema.get("type") == "object"
    assert schema.get("properties") or model.__name__.startswith("Empty")
    # Models with a custom serializer (wire-form switching) have an open output schema;
    # generating it must still work.
    json.dumps(model.model_json_schema(mode="serialization"))


@pytest.mark.parametrize("adapter", [PHASE_EVENT_ADAPTER, AGENT_RUN_EVENT_ADAPTER])
def test_union_schemas_generate(adapter: TypeAdapter[object]) -> None:
    schema = adapter.json_schema()
    assert "oneOf" in schema or "anyOf" in schema


def test_task_schema_uses_wire_names() -> None:
    schema = animus_protocol.Task.model_json_schema()
    assert "type" in schema["properties"]
    assert "task_type" not in schema["properties"]
    ts = schema["$defs"]["TaskMetadata"]["properties"]["created_at"]
    assert ts["format"] == "date-time"
