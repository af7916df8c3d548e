"""Token usage and cost of one agent session.

Tokens come from the response's ``tokens_used``, else from usage-bearing ``metadata``
entries. Cost is the provider's reported figure when there is one, else an estimate from
the reference's fallback rate table (USD per million tokens, input and output together,
matched by model prefix); a model the table does not know has no cost (``None``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FALLBACK_RATES_USD_PER_MILLION",
    "TokenUsage",
    "estimate_cost_usd",
    "reported_cost_usd",
    "usage_from_metadata",
]

# (model prefix, USD per 1M tokens). The longest matching prefix wins; each `/` segment
# of a routed model name (`openrouter/minimax/minimax-m2.7`) is tried as well.
FALLBACK_RATES_USD_PER_MILLION: tuple[tuple[str, float], ...] = (
    ("claude-opus", 30.0),
    ("claude-sonnet", 6.0),
    ("claude-haiku", 1.25),
    ("codex", 5.0),
    ("o4", 5.0),
    ("gpt-5", 5.0),
    ("gemini-3", 1.25),
    ("gemini-2", 0.75),
    ("kimi", 1.0),
    ("minimax", 0.7),
    ("opencode", 2.5),
)

_COST_KEYS = ("cost_usd", "total_cost_usd", "cost")
_INPUT_KEYS = ("input", "input_tokens", "prompt_tokens")
_OUTPUT_KEYS = ("output", "output_tokens", "completion_tokens")
_CACHED_KEYS = ("cached", "cache_read_input_tokens", "cached_tokens")
_CACHE_WRITE_KEYS = ("cache_writes", "cache_creation_input_tokens")


@dataclass(frozen=True)
class TokenUsage:
    input: int = 0
    output: int = 0
    cached: int | None = None
    cache_writes: int | None = None

    @property
    def total(self) -> int:
        return self.input + self.output

    def to_dict(self) -> dict[str, int]:
        out = {"input": self.input, "output": self.output}
        if self.cached is not None:
            out["cached"] = self.cached
        if self.cache_writes is not None:
            out["cache_writes"] = self.cache_writes
        return out


def _rate_for(model: str) -> float | None:
    name = model.strip().lower()
    candidates = [name, *name.split("/")]
    best: tuple[int, float] | None = None
    for prefix, rate in FALLBACK_RATES_USD_PER_MILLION:
        if any(c.startswith(prefix) for c in candidates) and (
            best is None or len(prefix) > best[0]
        ):
            best = (len(prefix), rate)
    return None if best is None else best[1]


def estimate_cost_usd(model: str | None, tokens: TokenUsage) -> float | None:
    """The fallback-table cost of ``tokens`` on ``model``; None for an unknown model."""
    if not model:
        return None
    rate = _rate_for(model)
    if rate is None:
        return None
    return round(tokens.total * rate / 1_000_000, 6)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


def _first(entry: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if key in entry:
            return entry[key]
    return None


def _entries(metadata: Iterable[Any]) -> Iterable[Mapping[str, Any]]:
    """Each metadata mapping and its nested ``usage`` mapping (one level deep)."""
    for item in metadata:
        if isinstance(item, Mapping):
            yield item
            nested = item.get("usage")
            if isinstance(nested, Mapping):
                yield nested


def reported_cost_usd(metadata: Iterable[Any]) -> float | None:
    """The sum of the costs providers reported in ``metadata`` (None when none did)."""
    total: float | None = None
    for entry in _entries(metadata):
        value = _number(_first(entry, _COST_KEYS))
        if value is not None:
            total = (total or 0.0) + value
    return None if total is None else round(total, 6)


def usage_from_metadata(metadata: Iterable[Any]) -> TokenUsage | None:
    """Token counts summed over usage-bearing metadata entries (None when there are none)."""
    found = False
    sums = {"input": 0, "output": 0, "cached": 0, "cache_writes": 0}
    seen_optional: set[str] = set()
    for entry in _entries(metadata):
        for name, keys in (
            ("input", _INPUT_KEYS),
            ("output", _OUTPUT_KEYS),
            ("cached", _CACHED_KEYS),
            ("cache_writes", _CACHE_WRITE_KEYS),
        ):
            value = _number(_first(entry, keys))
            if value is not None:
                sums[name] += int(value)
                found = True
                if name in ("cached", "cache_writes"):
                    seen_optional.add(name)
    if not found:
        return None
    return TokenUsage(
        sums["input"],
        sums["output"],
        sums["cached"] if "cached" in seen_optional else None,
        sums["cache_writes"] if "cache_writes" in seen_optional else None,
    )
