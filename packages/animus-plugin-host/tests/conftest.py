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


@pytest.fixture
def make_plugin(tmp_path: Path) -> Callable[..., Path]:
    """``make_plugin(dest, name=...)``: the protocol-only fixture as an executable file."""

    def make(dest: Path, version: str | None = None) -> Path:
        body = (FIXTURES / "protocol_plugin.py").read_text(encoding="utf-8")
        if version is not None:
            body = body.replace('"1.2.3"', f'"{version}"')
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
        dest.chmod(0o755)
        return dest

    return make
