"""Fixtures: the plugin as a real subprocess spoken to over stdio JSON-RPC, fake CLIs."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol.testing import PluginClient as _PluginClient
from animus_plugin_protocol.testing import children_of, group_members, write_fake_cli

MODULE = "animus_provider_gemini"


class PluginClient(_PluginClient):
    """The plugin under test, started as ``python -m <module>``."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        super().__init__([sys.executable, "-m", MODULE], env=env, cwd=cwd)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def plugin_env(home: Path, **extra: str) -> dict[str, str]:
    """What a host would hand the plugin: basics plus the manifest's declared variables."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


@pytest.fixture
def start_plugin(work: Path) -> Iterator[Any]:
    clients: list[PluginClient] = []

    def start(env: dict[str, str]) -> PluginClient:
        client = PluginClient(env, work)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()


@pytest.fixture
def make_env(home: Path) -> Any:
    def make(**extra: str) -> dict[str, str]:
        return plugin_env(home, **extra)

    return make


@pytest.fixture
def fake_cli(tmp_path: Path) -> Any:
    def make(body: str, name: str = "fake-cli") -> Path:
        return write_fake_cli(tmp_path / name, body)

    return make


class Procs:
    group_members = staticmethod(group_members)
    children_of = staticmethod(children_of)


@pytest.fixture
def procs() -> type[Procs]:
    return Procs


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
