from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
RAW = FIXTURES / "rawplugin.py"


@pytest.fixture
def raw_command() -> Callable[[str], list[str]]:
    """``raw_command(mode)``: argv of the hand-rolled misbehaving plugin fixture."""

    def make(mode: str) -> list[str]:
        return [sys.executable, str(RAW), mode]

    return make


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """A minimal, isolated environment: a private ANIMUS_HOME and the real PATH."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ANIMUS_HOME": str(tmp_path / "animus-home"),
    }
