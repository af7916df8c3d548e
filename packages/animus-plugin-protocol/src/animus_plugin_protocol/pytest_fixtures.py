"""pytest fixtures for testing a plugin as a real subprocess (needs pytest; tests only).

Import them into a plugin's ``conftest.py`` and name the plugin's command::

    from animus_plugin_protocol.pytest_fixtures import (  # noqa: F401 - fixtures by name
        fake_cli, home, make_env, procs, start_plugin, work,
    )

    @pytest.fixture
    def plugin_command() -> list[str]:
        return [sys.executable, "-m", "animus_provider_example"]

``make_env(**extra)`` builds what a host would hand the plugin (``PATH``, ``HOME``,
``LANG``, then ``plugin_base_env`` — override that fixture for a plugin's fixed variables —
then ``extra``); ``start_plugin(env)`` starts and initializes the plugin in ``work`` and
closes every client it started at teardown; ``fake_cli(body, name)`` writes an executable
stand-in for an agent CLI; ``procs`` offers ``group_members`` and ``children_of``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from animus_plugin_protocol.testing import (
    PluginClient,
    children_of,
    group_members,
    write_fake_cli,
)

__all__ = [
    "Procs",
    "fake_cli",
    "home",
    "make_env",
    "plugin_base_env",
    "procs",
    "start_plugin",
    "work",
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The plugin's private ``HOME``."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The working directory the plugin is started in."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def plugin_base_env(home: Path) -> dict[str, str]:
    """Variables every start of this plugin gets (override per plugin)."""
    return {}


@pytest.fixture
def make_env(home: Path, plugin_base_env: dict[str, str]) -> Callable[..., dict[str, str]]:
    def make(**extra: str) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            **plugin_base_env,
        }
        env.update(extra)
        return env

    return make


@pytest.fixture
def start_plugin(
    work: Path, plugin_command: list[str]
) -> Iterator[Callable[[dict[str, str]], PluginClient]]:
    clients: list[PluginClient] = []

    def start(env: dict[str, str]) -> PluginClient:
        client = PluginClient(plugin_command, env=env, cwd=work)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()


@pytest.fixture
def fake_cli(tmp_path: Path) -> Callable[..., Path]:
    def make(body: str, name: str = "fake-cli") -> Path:
        return write_fake_cli(tmp_path / name, body)

    return make


class Procs:
    group_members = staticmethod(group_members)
    children_of = staticmethod(children_of)


@pytest.fixture
def procs() -> type[Procs]:
    return Procs
