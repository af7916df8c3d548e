"""Captured real-CLI stream samples shipped in `animus_testsupport/fixtures/`."""

from __future__ import annotations

from pathlib import Path

__all__ = ["FIXTURES_DIR", "fixture_path"]

FIXTURES_DIR = Path(__file__).parent / "fixtures"


def fixture_path(name: str) -> Path:
    """Path of a captured stream sample, e.g. `fixture_path("claude_tools.jsonl")`."""
    path = FIXTURES_DIR / name
    if not path.is_file():
        available = sorted(p.name for p in FIXTURES_DIR.glob("*.jsonl"))
        raise FileNotFoundError(f"no fixture {name!r}; available: {available}")
    return path
