from __future__ import annotations

import json
import subprocess
import sys

import pytest

import animus_cli
from animus_cli.app import run


def _envelope(text: str) -> dict[str, object]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    env = json.loads(lines[0])
    assert env["schema"] == "animus.cli.v1"
    return env  # type: ignore[no-any-return]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"animus {animus_cli.__version__}"


def test_help_lists_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    assert "Usage: animus" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [["--json", "--bogus"], ["no-such-command", "--json"], ["--json", "--project-root"]],
)
def test_parse_errors_are_invalid_input_envelopes(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    env = _envelope(captured.err)
    assert env["ok"] is False
    error = env["error"]
    assert isinstance(error, dict)
    assert error["code"] == "invalid_input"
    assert error["exit_code"] == 2
    assert error["details"]["stage"] == "parse"
    assert error["details"]["raw"] == argv


def test_parse_error_human_mode_has_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--bogus"]) == 2
    err = capsys.readouterr().err
    assert "error: No such option '--bogus'" in err
    assert "hint: run 'animus --help' for usage" in err


def test_console_script_in_a_real_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "animus_cli", "--json", "--nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert _envelope(proc.stderr)["ok"] is False
