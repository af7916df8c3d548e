"""Fixtures: the plugin as a real subprocess spoken to over stdio JSON-RPC, fake CLIs.

The shared ones come from :mod:`animus_plugin_protocol.pytest_fixtures`; this file names the
plugin's command.
"""

from __future__ import annotations

import sys

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
    return [sys.executable, "-m", "animus_provider_oai"]
