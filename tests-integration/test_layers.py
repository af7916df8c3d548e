"""The layer contracts are real: they pass on the repository and fail on violations."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KERNEL = [
    "animus_plugin_protocol",
    "animus_protocol",
    "animus_store",
    "animus_config",
    "animus_plugin_host",
    "animus_session_host",
    "animus_core",
    "animus_agent_runner",
    "animus_workflow_runner",
    "animus_daemon_runtime",
    "animus_cli",
]


def _run_layers(root: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, str(REPO / "tools" / "layers.py"), "--root", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def fake_tree(tmp_path: Path) -> Path:
    """A copy of the contracts with one empty module per kernel package and one plugin."""
    root = tmp_path / "tree"
    src = root / "src"
    for name in KERNEL:
        (src / name).mkdir(parents=True)
        (src / name / "__init__.py").write_text("")
    plugin = root / "plugins" / "animus-provider-fake" / "src" / "animus_provider_fake"
    plugin.mkdir(parents=True)
    (plugin / "__init__.py").write_text("import animus_plugin_protocol\n")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _pythonpath(root: Path) -> Path:
    # The plugin's src must be importable too; put both on one path via a .pth-free layout.
    target = root / "path"
    target.mkdir(exist_ok=True)
    for pkg in (root / "src").iterdir():
        (target / pkg.name).symlink_to(pkg)
    for pkg in (root / "plugins").glob("*/src/*"):
        (target / pkg.name).symlink_to(pkg)
    return target


def test_repository_satisfies_contracts() -> None:
    proc = _run_layers(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " kept, 0 broken." in proc.stdout


def test_clean_fake_tree_passes(fake_tree: Path) -> None:
    proc = _run_layers(fake_tree, _pythonpath(fake_tree))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_lower_layer_importing_higher_fails(fake_tree: Path) -> None:
    (fake_tree / "src" / "animus_store" / "__init__.py").write_text("import animus_cli\n")
    proc = _run_layers(fake_tree, _pythonpath(fake_tree))
    assert proc.returncode != 0
    assert "BROKEN" in proc.stdout
    assert "animus_store -> animus_cli" in proc.stdout


def test_sibling_arrow_forbidden(fake_tree: Path) -> None:
    (fake_tree / "src" / "animus_core" / "__init__.py").write_text("import animus_agent_runner\n")
    proc = _run_layers(fake_tree, _pythonpath(fake_tree))
    assert proc.returncode != 0
    assert "animus_core -> animus_agent_runner" in proc.stdout


def test_plugin_importing_kernel_fails(fake_tree: Path) -> None:
    plugin = fake_tree / "plugins" / "animus-provider-fake" / "src" / "animus_provider_fake"
    (plugin / "__init__.py").write_text("import animus_plugin_protocol\nimport animus_core\n")
    proc = _run_layers(fake_tree, _pythonpath(fake_tree))
    assert proc.returncode != 0
    assert "Plugins talk to the kernel over the wire only BROKEN" in proc.stdout
    assert "animus_provider_fake -> animus_core" in proc.stdout
