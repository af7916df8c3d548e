"""Property tests: timestamp and duration round trips, alias folding, task JSON round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from animus_protocol import (
    Priority,
    Task,
    TaskStatus,
    TaskType,
    format_rfc3339,
    parse_duration,
    parse_rfc3339,
)

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
aware = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2999, 12, 31), timezones=offsets
)


@given(aware)
def test_rfc3339_round_trip_preserves_the_instant(value: datetime) -> None:
    text = format_rfc3339(value)
    assert len(text) == 27
    assert text.endswith("Z")
    assert parse_rfc3339(text) == value


@given(aware, aware)
def test_rfc3339_strings_sort_like_instants(a: datetime, b: datetime) -> None:
    assert (format_rfc3339(a) < format_rfc3339(b)) == (a < b)


units = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


@given(st.dictionaries(st.sampled_from(list(units)), st.integers(0, 10_000), min_size=1))
def test_compound_durations_sum_their_parts(parts: dict[str, int]) -> None:
    text = "".join(f"{n}{u}" for u, n in parts.items())
    expected = sum(n * units[u] for u, n in parts.items())
    assert parse_duration(text) == timedelta(seconds=expected)


@given(
    st.sampled_from(list(TaskStatus)),
    st.sampled_from(["-", "_", ""]),
    st.booleans(),
)
def test_status_spelling_variants_fold(status: TaskStatus, sep: str, upper: bool) -> None:
    text = status.value.replace("-", sep)
    assert TaskStatus.parse(text.upper() if upper else text) is status


@settings(max_examples=50)
@given(
    title=st.text(min_size=1, max_size=40),
    status=st.sampled_from(list(TaskStatus)),
    kind=st.sampled_from(list(TaskType)),
    priority=st.sampled_from(list(Priority)),
    tags=st.lists(st.text(max_size=10), max_size=4),
    when=aware,
)
def test_task_json_round_trip(
    *,
    title: str,
    status: TaskStatus,
    kind: TaskType,
    priority: Priority,
    tags: list[str],
    when: datetime,
) -> None:
    task = Task(
        id="TASK-001",
        title=title,
        status=status,
        type=kind,
        priority=priority,
        tags=tags,
        deadline=when,
    )
    back = Task.from_json(task.to_json())
    assert back == task
    assert back.deadline == when.astimezone(UTC)
