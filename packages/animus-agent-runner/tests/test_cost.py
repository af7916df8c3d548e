from __future__ import annotations

import pytest

from animus_agent_runner import (
    TokenUsage,
    estimate_cost_usd,
    reported_cost_usd,
    usage_from_metadata,
)


@pytest.mark.parametrize(
    ("model", "rate"),
    [
        ("claude-opus-4-1", 30.0),
        ("claude-sonnet-4-6", 6.0),
        ("claude-haiku-4-5", 1.25),
        ("codex-mini-latest", 5.0),
        ("o4-mini", 5.0),
        ("gpt-5.4", 5.0),
        ("gemini-3-pro", 1.25),
        ("gemini-2.5-pro", 0.75),
        ("kimi-k2", 1.0),
        ("openrouter/minimax/minimax-m2.7", 0.7),
        ("opencode/some-model", 2.5),
    ],
)
def test_rate_table_by_prefix(model: str, rate: float) -> None:
    cost = estimate_cost_usd(model, TokenUsage(600_000, 400_000))
    assert cost == pytest.approx(rate)


def test_unknown_model_or_no_model_has_no_cost() -> None:
    assert estimate_cost_usd("llama-3-70b", TokenUsage(10, 10)) is None
    assert estimate_cost_usd(None, TokenUsage(10, 10)) is None
    assert estimate_cost_usd("zai-coding-plan/glm-5", TokenUsage(10, 10)) is None


def test_usage_and_cost_from_metadata() -> None:
    metadata = [
        {"type": "mock_usage", "usage": {"input": 100, "output": 20, "cost": 0.5}},
        {"usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 7}},
        {"total_cost_usd": 0.25},
        "not a mapping",
    ]
    assert usage_from_metadata(metadata) == TokenUsage(110, 25, 7, None)
    assert reported_cost_usd(metadata) == pytest.approx(0.75)
    assert usage_from_metadata([{"note": "x"}]) is None
    assert reported_cost_usd([{"cost": -1}, {"cost": True}]) is None


def test_token_usage_dict() -> None:
    assert TokenUsage(1, 2).to_dict() == {"input": 1, "output": 2}
    assert TokenUsage(1, 2, 3, 4).to_dict() == {
        "input": 1,
        "output": 2,
        "cached": 3,
        "cache_writes": 4,
    }
    assert TokenUsage(1, 2).total == 3
