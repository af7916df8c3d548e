"""``animus plugin``: every verb in process (``run`` + captured output), against a plugin
written only with animus-plugin-protocol (a script in the test's tmp dir) and the bundled
mock provider. Real discovery, real subprocesses, real lockfiles."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from animus_cli.app import run

ECHO_SOURCE = """\
#!{python}
import os

from animus_plugin_protocol import RpcError
from animus_plugin_protocol.runtime import Plugin

plugin = Plugin(
    "animus-echo",
    "1.2.3",
    "custom",
    "echo plugin for CLI tests",
    env_required=[{{"name": "ECHO_TOKEN", "required": {token_required}}}],
)


@plugin.method("echo/say")
async def say(params, ctx):
    return {{"echo": params, "token_seen": "ECHO_TOKEN" in os.environ}}


@plugin.method("echo/missing")
async def missing(params, ctx):
    raise RpcError(-32004, "no such thing", category="not_found")


@plugin.method("echo/strict")
async def strict(params, ctx):
    if "n" not in params:
        raise RpcError.invalid_params("echo/strict needs 'n'")
    return params["n"]


@plugin.method("echo/crash")
async def crash(params, ctx):
    os._exit(3)


plugin.main()
"""


MOCK_SRC = Path(__file__).resolve().parents[3] / "plugins" / "animus-provider-mock" / "src"


def add_mock_launcher(root: Path) -> Path:
    """Put the mock provider in ``<root>/.animus/plugins/`` as a launcher script.

    animus-cli does not depend on the mock plugin (it is a workspace root dependency), so
    the launcher imports an installed ``animus_provider_mock`` or else its source tree: the
    tests run the same in the workspace and in the isolated ``nox -s tests-animus-cli``.
    """
    path = root / ".animus" / "plugins" / "animus-provider-mock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
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
    path.chmod(0o755)
    return path


def write_echo_plugin(directory: Path, *, token_required: bool = False) -> Path:
    path = directory / "animus-echo"
    path.write_text(ECHO_SOURCE.format(python=sys.executable, token_required=token_required))
    path.chmod(0o755)
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with ``.animus/`` and a private ANIMUS_HOME; cwd is the project."""
    home = tmp_path / "home"
    root = tmp_path / "proj"
    (root / ".animus").mkdir(parents=True)
    add_mock_launcher(root)
    monkeypatch.setenv("ANIMUS_HOME", str(home))
    for name in ("ANIMUS_PLUGIN_PATH", "ANIMUS_PLUGIN_DIR", "ECHO_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    return root


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    @property
    def data(self) -> Any:
        env = json.loads(self.out)
        assert env["schema"] == "animus.cli.v1"
        assert env["ok"] is True
        return env["data"]

    @property
    def error(self) -> dict[str, Any]:
        lines = [line for line in self.err.splitlines() if line.strip()]
        env = json.loads(lines[-1])
        assert env["ok"] is False
        error: dict[str, Any] = env["error"]
        assert error["exit_code"] == self.code
        return error


@pytest.fixture
def cli(project: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    def invoke(*args: str) -> Result:
        code = run(["--project-root", str(project), *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def test_list_shows_the_mock_provider_with_its_tier(cli: Any) -> None:
    listed = cli("--json", "plugin", "list")
    assert listed.code == 0
    names = {p["name"]: p for p in listed.data["plugins"]}
    assert names["animus-provider-mock"]["source"] == "project_dir"
    assert names["animus-provider-mock"]["kind"] == "provider"
    assert set(listed.data) == {"plugins", "warnings", "shadowed"}
    human = cli("plugin", "list", "--verbose")
    assert human.code == 0
    assert "animus-provider-mock" in human.out
    assert "project_dir" in human.out
    only_custom = cli("--json", "plugin", "list", "--kind", "custom")
    assert only_custom.data["plugins"] == []


def test_install_info_ping_call_verify_uninstall(cli: Any, project: Path, tmp_path: Path) -> None:
    source = write_echo_plugin(tmp_path)
    installed = cli("--json", "plugin", "install", str(source))
    assert installed.code == 0, installed.err
    data = installed.data
    assert data["scope"] == "project"  # the project has .animus/
    assert Path(data["path"]) == project / ".animus" / "plugins" / "animus-echo"
    lock_text = (project / ".animus" / "plugins.lock").read_text()
    assert 'name = "animus-echo"' in lock_text
    assert data["artifact_sha256"] in lock_text

    listed = cli("--json", "plugin", "list", "--kind", "custom")
    (echo,) = listed.data["plugins"]
    assert (echo["name"], echo["version"]) == ("animus-echo", "1.2.3")
    assert echo["source"] == "project_dir"

    info = cli("--json", "plugin", "info", "animus-echo")
    assert info.data["manifest"]["description"] == "echo plugin for CLI tests"
    assert info.data["lock"]["scope"] == "project"
    assert info.data["lock"]["artifact_sha256"] == data["artifact_sha256"]
    assert "echo/say" in info.data["capabilities"]
    assert "lock" in cli("plugin", "info", "--name", "animus-echo").out

    ping = cli("--json", "plugin", "ping", "animus-echo")
    assert ping.data["ok"] is True
    assert ping.data["latency_ms"] > 0
    assert "ok, $/ping" in cli("plugin", "ping", "animus-echo").out

    called = cli("--json", "plugin", "call", "animus-echo", "echo/say", "--params", '{"a": [1, 2]}')
    assert called.data["result"] == {"echo": {"a": [1, 2]}, "token_seen": False}
    params_file = tmp_path / "params.json"
    params_file.write_text('{"from": "file"}')
    by_file = cli("plugin", "call", "animus-echo", "echo/say", "--params-file", str(params_file))
    assert json.loads(by_file.out)["echo"] == {"from": "file"}

    assert cli("--json", "plugin", "lock", "verify").data == {"ok": ["animus-echo"], "issues": []}
    installed_exe = Path(data["path"])
    installed_exe.write_text(installed_exe.read_text() + "# tampered\n")
    tampered = cli("--json", "plugin", "lock", "verify")
    assert tampered.code == 4
    (issue,) = tampered.error["details"]["issues"]
    assert (issue["name"], issue["problem"]) == ("animus-echo", "modified")
    human = cli("plugin", "lock", "verify")
    assert human.code == 4
    assert "animus-echo (project)" in human.err
    assert "modified" in human.err

    # Installing the original again conflicts until --yes says to replace it.
    again = cli("--json", "plugin", "install", str(source))
    assert again.code == 4
    assert "--yes" in again.error["details"]["hint"]
    assert cli("plugin", "install", str(source), "--yes").code == 0
    assert cli("plugin", "lock", "verify").code == 0

    dry = cli("--json", "plugin", "uninstall", "animus-echo")
    assert dry.data["dry_run"] is True
    assert installed_exe.exists()
    assert cli("plugin", "uninstall", "animus-echo", "--yes").code == 0
    assert not installed_exe.exists()
    assert "animus-echo" not in (project / ".animus" / "plugins.lock").read_text()
    assert cli("--json", "plugin", "lock", "list").data == {"plugins": []}
    gone = cli("--json", "plugin", "uninstall", "animus-echo", "--yes")
    assert gone.code == 3


def test_missing_executable_becomes_lock_verify_conflict(cli: Any, tmp_path: Path) -> None:
    installed = cli("--json", "plugin", "install", str(write_echo_plugin(tmp_path)))
    Path(installed.data["path"]).unlink()
    missing = cli("--json", "plugin", "lock", "verify")
    assert missing.code == 4
    assert missing.error["details"]["issues"][0]["problem"] == "missing"


def test_global_install_without_dot_animus(cli: Any, project: Path, tmp_path: Path) -> None:
    source = write_echo_plugin(tmp_path)
    installed = cli("--json", "plugin", "install", str(source), "--global")
    assert installed.data["scope"] == "global"
    assert Path(installed.data["path"]).is_relative_to(tmp_path / "home")
    assert (tmp_path / "home" / "plugins.lock").exists()
    listed = cli("--json", "plugin", "list", "--kind", "custom")
    assert listed.data["plugins"][0]["source"] == "global_dir"
    # A project install of the same plugin shadows the global one.
    assert cli("plugin", "install", str(source)).code == 0
    shadowed = cli("--json", "plugin", "list").data["shadowed"]
    echoes = [s for s in shadowed if s["name"] == "animus-echo"]
    assert [(s["winner_source"], s["shadowed_source"]) for s in echoes] == [
        ("project_dir", "global_dir")
    ]
    assert cli("--json", "plugin", "uninstall", "animus-echo", "--global", "--yes").code == 0
    assert not Path(installed.data["path"]).exists()


MOCK_CALL = ["plugin", "call", "animus-provider-mock", "a/b"]


@pytest.mark.parametrize(
    ("args", "exit_code", "needle"),
    [
        (["plugin", "info", "animus-nope"], 3, "animus plugin list"),
        (["plugin", "ping", "animus-nope"], 3, "animus plugin list"),
        (["plugin", "call", "animus-nope", "x/y"], 3, "animus plugin list"),
        (["plugin", "info"], 2, "NAME"),
        (["plugin", "install"], 2, "exactly one"),
        (["plugin", "install", "./missing/animus-x"], 3, "no such file"),
        (["plugin", "uninstall", "animus-nope"], 3, "lock list"),
        ([*MOCK_CALL, "--params", '{"a": 1,}'], 2, "column 9"),
        ([*MOCK_CALL, "--params-file", "nope.json"], 2, "nope"),
        ([*MOCK_CALL, "--params", "{}", "--params-file", "x"], 2, "not both"),
        (["plugin", "lock", "frobnicate"], 2, "frobnicate"),
    ],
)
def test_bad_input_is_a_typed_error(cli: Any, args: list[str], exit_code: int, needle: str) -> None:
    result = cli("--json", *args)
    assert result.code == exit_code, result.err
    assert result.out == ""
    error = result.error
    assert needle in json.dumps(error)
    human = cli(*args)
    assert human.code == exit_code
    assert human.err.startswith("error: ")
    assert "Traceback" not in human.err


def test_not_a_plugin_is_refused(cli: Any, tmp_path: Path) -> None:
    bogus = tmp_path / "animus-bogus"
    bogus.write_text("#!/bin/sh\necho hello\n")
    bogus.chmod(0o755)
    result = cli("--json", "plugin", "install", str(bogus))
    assert result.code == 2
    assert "not an Animus plugin" in result.error["message"]


def test_plugin_errors_map_to_exit_codes(cli: Any, tmp_path: Path) -> None:
    cli("plugin", "install", str(write_echo_plugin(tmp_path)))
    not_found = cli("--json", "plugin", "call", "animus-echo", "echo/missing")
    assert not_found.code == 3
    details = not_found.error["details"]
    assert (details["rpc_code"], details["category"]) == (-32004, "not_found")
    assert details["rpc_message"] == "no such thing"
    bad_params = cli("--json", "plugin", "call", "animus-echo", "echo/strict", "--params", "{}")
    assert bad_params.code == 2
    assert bad_params.error["details"]["rpc_code"] == -32602
    unknown_method = cli("--json", "plugin", "call", "animus-echo", "echo/nothing")
    assert unknown_method.code == 3
    assert unknown_method.error["details"]["rpc_code"] == -32601
    crashed = cli("--json", "plugin", "call", "animus-echo", "echo/crash")
    assert crashed.code == 5
    assert crashed.error["details"]["category"] == "process_exited"
    ok = cli("--json", "plugin", "call", "animus-echo", "echo/strict", "--params", '{"n": 7}')
    assert ok.data["result"] == 7


def test_required_env_is_checked_before_spawn_and_by_doctor(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("plugin", "install", str(write_echo_plugin(tmp_path, token_required=True)))
    refused = cli("--json", "plugin", "ping", "animus-echo")
    assert refused.code == 2
    assert "export ECHO_TOKEN=" in refused.error["details"]["hint"]
    doctor = cli("--json", "plugin", "doctor")
    assert doctor.code == 0  # a missing variable is reported; only missing roles fail
    (issue,) = doctor.data["missing"]
    assert issue["role"] == "env:animus-echo"
    assert issue["fix"] == "export ECHO_TOKEN=<value>"
    assert "provider" in doctor.data["satisfied"]
    monkeypatch.setenv("ECHO_TOKEN", "s3cret")
    assert cli("--json", "plugin", "doctor").data["missing"] == []
    called = cli("--json", "plugin", "call", "animus-echo", "echo/say")
    assert called.data["result"]["token_seen"] is True  # declared, so forwarded


def test_doctor_fails_with_exit_2_when_no_provider_exists(
    cli: Any, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The workspace venv installs the mock provider (an entry point), so hiding the entry
    # points is the one way to see a kernel without any provider there.
    from animus_plugin_host import _discovery

    (project / ".animus" / "plugins" / "animus-provider-mock").unlink()
    monkeypatch.setattr(_discovery.metadata, "entry_points", lambda **_: [])
    result = cli("--json", "plugin", "doctor")
    assert result.code == 2
    error = result.error
    assert error["code"] == "preflight_failed"
    assert error["details"]["missing"][0]["role"] == "provider"
    assert "animus-provider-mock" in error["details"]["hint"]
    human = cli("plugin", "doctor")
    assert human.code == 2
    assert "fix:" in human.out
    assert "required role(s) missing: provider" in human.err


def test_params_from_stdin_and_array_params(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    cli("plugin", "install", str(write_echo_plugin(tmp_path)))
    monkeypatch.setattr("sys.stdin", io.StringIO('{"via": "stdin"}'))
    piped = cli("--json", "plugin", "call", "animus-echo", "echo/say", "--params-file", "-")
    assert piped.data["result"]["echo"] == {"via": "stdin"}
    # The runtime accepts only object params: an array is refused with -32602 -> exit 2.
    array = cli("--json", "plugin", "call", "animus-echo", "echo/say", "--params", "[1, 2]")
    assert array.code == 2
    assert array.error["details"]["rpc_code"] == -32602
