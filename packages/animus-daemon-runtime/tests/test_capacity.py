from __future__ import annotations

import pytest

from animus_daemon_runtime.capacity import dispatch_budget


def test_limited_by_per_wake() -> None:
    assert dispatch_budget(pool_size=10, active=0, max_per_wake=2).slots == 2


def test_limited_by_free_slots() -> None:
    assert dispatch_budget(pool_size=4, active=3, max_per_wake=5).slots == 1


def test_headroom_reserves_slots() -> None:
    budget = dispatch_budget(pool_size=4, active=2, max_per_wake=5, headroom=2)
    assert budget.slots == 0
    assert budget.reason is not None
    assert "pool full" in budget.reason


def test_over_capacity_is_zero_not_negative() -> None:
    assert dispatch_budget(pool_size=2, active=5, max_per_wake=3).slots == 0


@pytest.mark.parametrize(("flag", "reason"), [("draining", "draining"), ("paused", "paused")])
def test_draining_and_paused_dispatch_nothing(flag: str, reason: str) -> None:
    budget = dispatch_budget(pool_size=4, active=0, max_per_wake=2, **{flag: True})
    assert (budget.slots, budget.reason) == (0, reason)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pool_size": 0, "active": 0, "max_per_wake": 1},
        {"pool_size": 1, "active": 0, "max_per_wake": 0},
        {"pool_size": 1, "active": -1, "max_per_wake": 1},
    ],
)
def test_bad_input_is_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"must be|cannot be"):
        dispatch_budget(**kwargs)
