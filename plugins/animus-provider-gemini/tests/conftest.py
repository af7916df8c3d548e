"""Fixtures: the plugin as a real subprocess spoken to over stdio JSON-RPC, fake CLIs.

The shared ones come from :mod:`animus_plugin_protocol.pytest_fixtures`; this file names the
plugin's command and a private settings directory.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from animus_plugin_protocol.pytest_fixtures import (  # noqa: F401 - fixtures, found by name
    fake_cli,
    home,
    make_env,
    plugin_base_env,
    procs,
    start_plugin,
    work,
)


@pytest.fixture
def plugin_command() -> list[str]:
    return [sys.executable, "-m", "animus_provider_gemini"]


@pytest.fixture
def settings_dir() -> Iterator[Path]:
    """A private directory for the plugin's per-run gemini settings files.

    gemini ignores a settings file below any group/other-writable directory (``/tmp``
    included, and so a checkout cloned under ``/tmp``), so this lives under the user's home,
    which is private, in a fresh 0700 directory.
    """
    base = Path.home() / ".cache" / "animus-test-gemini-settings"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = Path(tempfile.mkdtemp(dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)
