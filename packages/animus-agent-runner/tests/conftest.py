from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from animus_protocol.paths import ScopePaths

MOCK_SRC = Path(__file__).resolve().parents[3] / "plugins" / "animus-provider-mock" / "src"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose ``.animus/plugins/`` holds the mock provider (a launcher script).

    The launcher prefers an installed ``animus_provider_mock`` and falls back to the source
    tree, so these tests run whether or not the plugin distribution is installed.
    """
    root = tmp_path / "proj"
    launcher = root / ".animus" / "plugins" / "animus-provider-mock"
    launcher.parent.mkdir(parents=True)
    launcher.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "try:\n"
        "    import animus_provider_mock\n"
        "except ImportError:\n"
        f"    sys.path.insert(0, {str(MOCK_SRC)!r})\n"
        "from animus_provider_mock import main\n"
        "main()\n",
        encoding="utf-8",
    )
    launcher.chmod(0o755)
    return root


@pytest.fixture
def host_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    home = tmp_path / "animus-home"
    monkeypatch.setenv("ANIMUS_HOME", str(home))
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ANIMUS_HOME": str(home),
    }


@pytest.fixture
def scope(project: Path, host_env: dict[str, str]) -> ScopePaths:
    return ScopePaths.for_project(project, host_env)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
