"""Fixtures: the plugin as a real subprocess spoken to over stdio JSON-RPC, fake CLIs.

The shared ones come from :mod:`animus_plugin_protocol.pytest_fixtures`; this file names the
plugin's command and the variables that keep a real ``claude`` quiet.
"""

from __future__ import annotations

import sys

import pytest

from animus_plugin_protocol.pytest_fixtures import (  # noqa: F401 - fixtures, found by name
    fake_cli,
    home,
    make_env,
    procs,
    start_plugin,
    work,
)


@pytest.fixture
def plugin_command() -> list[str]:
    return [sys.executable, "-m", "animus_provider_claude"]


@pytest.fixture
def plugin_base_env() -> dict[str, str]:
    return {
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
