from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

Spawn = Callable[..., "subprocess.Popen[str]"]


def run_python(code: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (a real separate process)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn_python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated ANIMUS_HOME."""
    path = tmp_path / "animus-home"
    monkeypatch.setenv("ANIMUS_HOME", str(path))
    monkeypatch.delenv("ANIMUS_CONFIG_DIR", raising=False)
    return path


@pytest.fixture(autouse=True)
def _no_user_redaction_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("ANIMUS_LOG_REDACT_KEYS", "ANIMUS_LOG_REDACT_PATTERNS"):
        monkeypatch.delenv(key, raising=False)
    os.umask(0o022)


@pytest.fixture
def spawn() -> Spawn:
    """Start ``code`` in a separate interpreter: ``spawn(code, *args) -> Popen``."""
    return spawn_python
