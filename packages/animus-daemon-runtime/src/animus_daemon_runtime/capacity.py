"""How many runs the scheduler may start on one wake.

The daemon is a dumb scheduler: it knows slots, not task policy. A wake may start at most
``min(max_per_wake, pool - active - headroom)`` runs, never a negative number, and none
while the pool is draining (shutdown) or dispatch is paused.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DispatchBudget", "dispatch_budget"]


@dataclass(frozen=True)
class DispatchBudget:
    """The outcome of one capacity check, with the reason when nothing may start."""

    slots: int
    reason: str | None = None


def dispatch_budget(
    *,
    pool_size: int,
    active: int,
    max_per_wake: int,
    headroom: int = 0,
    draining: bool = False,
    paused: bool = False,
) -> DispatchBudget:
    """Slots available this wake; ``reason`` says why when it is zero."""
    if pool_size < 1:
        raise ValueError(f"pool_size must be at least 1, got {pool_size}")
    if max_per_wake < 1:
        raise ValueError(f"max_per_wake must be at least 1, got {max_per_wake}")
    if active < 0 or headroom < 0:
        raise ValueError("active and headroom cannot be negative")
    if draining:
        return DispatchBudget(0, "draining")
    if paused:
        return DispatchBudget(0, "paused")
    free = pool_size - active - headroom
    if free <= 0:
        return DispatchBudget(0, f"pool full ({active}/{pool_size} active, headroom {headroom})")
    return DispatchBudget(min(max_per_wake, free))
