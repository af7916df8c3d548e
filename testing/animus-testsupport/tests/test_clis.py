from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from animus_testsupport import claude_bin, codex_bin, require_cli
from animus_testsupport.clis import (
    INSTALL_COMMAND,
    find_cli,
    gemini_bin,
    opencode_bin,
    repo_root,
)


def make_executable(path: Path) -> Path:
    path.write_text("#!/bin/sh\necho fake\n")
    path.chmod(0o755)
    return path


def test_env_override_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = make_executable(tmp_path / "claude")
    monkeypatch.setenv("CLAUDE_BIN", str(fake))
    monkeypatch.setenv("CODEX_BIN", str(fake))
    assert claude_bin() == fake
    assert codex_bin() == fake


def test_gemini_and_opencode_locators(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GEMINI_BIN", "OPENCODE_BIN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AGENT_CLIS_PREFIX", str(tmp_path))
    assert gemini_bin() is None
    assert opencode_bin() is None
    bin_dir = tmp_path / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True)
    make_executable(bin_dir / "gemini")
    make_executable(bin_dir / "opencode")
    assert gemini_bin() == bin_dir / "gemini"
    assert opencode_bin() == bin_dir / "opencode"
    fake = make_executable(tmp_path / "my-gemini")
    monkeypatch.setenv("GEMINI_BIN", str(fake))
    assert gemini_bin() == fake
    monkeypatch.setenv("OPENCODE_BIN", str(tmp_path / "absent"))
    assert opencode_bin() is None  # a bad override is not papered over by the cache


def test_cache_prefix_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_BIN", raising=False)
    monkeypatch.setenv("AGENT_CLIS_PREFIX", str(tmp_path))
    assert codex_bin() is None
    bin_dir = tmp_path / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True)
    assert codex_bin() is None
    make_executable(bin_dir / "codex")
    assert codex_bin() == bin_dir / "codex"


def test_missing_cli_skips_locally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("CLAUDE_BIN", str(tmp_path / "absent"))
    with pytest.raises(pytest.skip.Exception) as caught:
        require_cli("claude")
    assert f"CLAUDE_BIN={tmp_path / 'absent'} is not an executable file" in str(caught.value)


def test_missing_cli_fails_under_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("CODEX_BIN", raising=False)
    monkeypatch.setenv("AGENT_CLIS_PREFIX", str(tmp_path))
    with pytest.raises(pytest.fail.Exception) as caught:
        require_cli("codex")
    message = str(caught.value)
    assert INSTALL_COMMAND in message
    assert "CI is set" in message


def test_unknown_cli_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown agent CLI 'aider'"):
        find_cli("aider")


def test_install_script_rejects_bad_arguments_without_touching_the_network() -> None:
    root = repo_root()
    assert root is not None
    script = root / INSTALL_COMMAND
    assert os.access(script, os.X_OK)
    bogus = subprocess.run(
        [str(script), "--bogus"], capture_output=True, text=True, timeout=30, check=False
    )
    assert bogus.returncode == 2
    assert "unknown argument '--bogus'" in bogus.stderr
    empty = subprocess.run(
        [str(script), "--prefix"], capture_output=True, text=True, timeout=30, check=False
    )
    assert empty.returncode == 2
    assert "--prefix needs a directory" in empty.stderr


def test_install_script_is_idempotent_when_pinned_versions_are_present(tmp_path: Path) -> None:
    root = repo_root()
    assert root is not None
    script = root / INSTALL_COMMAND
    pins = dict(
        line.split("=", 1)
        for line in script.read_text().splitlines()
        if line.startswith(
            ("CLAUDE_CODE_VERSION=", "CODEX_VERSION=", "GEMINI_CLI_VERSION=", "OPENCODE_VERSION=")
        )
    )
    versions = {
        "@anthropic-ai/claude-code": pins["CLAUDE_CODE_VERSION"].strip('"'),
        "@openai/codex": pins["CODEX_VERSION"].strip('"'),
        "@google/gemini-cli": pins["GEMINI_CLI_VERSION"].strip('"'),
        "opencode-ai": pins["OPENCODE_VERSION"].strip('"'),
    }
    modules = tmp_path / "node_modules"
    for package, version in versions.items():
        (modules / package).mkdir(parents=True)
        (modules / package / "package.json").write_text(f'{{"version": "{version}"}}')
    (modules / ".bin").mkdir()
    for name in ("claude", "codex", "gemini", "opencode"):
        make_executable(modules / ".bin" / name)
    done = subprocess.run(
        [str(script), "--prefix", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pinned versions already present" in done.stdout
    assert f"claude: {modules / '.bin' / 'claude'}" in done.stdout
    assert f"codex: {modules / '.bin' / 'codex'}" in done.stdout
    assert f"gemini: {modules / '.bin' / 'gemini'}" in done.stdout
    assert f"opencode: {modules / '.bin' / 'opencode'}" in done.stdout
