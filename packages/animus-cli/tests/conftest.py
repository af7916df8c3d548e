"""Shared fixtures for animus-cli tests: run the CLI in-process against a temp project."""

from __future__ import annotations

from pathlib import Path

import pytest

from animus_cli.app import run
from animus_cli.testing import CliResult, Invoke


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.setenv("ANIMUS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    return root


@pytest.fixture
def animus(project: Path, capsys: pytest.CaptureFixture[str]) -> Invoke:
    def invoke(*args: str, json_output: bool = False) -> CliResult:
        capsys.readouterr()
        argv = ["--project-root", str(project), *(["--json"] if json_output else []), *args]
        code = run(argv)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def cli(animus: Invoke) -> Invoke:
    """The same invoker under the name the subject-family tests use."""
    return animus
