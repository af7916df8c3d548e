"""End to end through the real ``animus`` executable (``python -m animus_cli``): a plugin
written only against animus-plugin-protocol, outside the kernel, is installed into a git
project, discovered, locked, pinged, called and hosted for a session-free round trip;
tampering is caught by ``plugin lock verify``; the mock provider runs through
``animus agent run`` and really edits the project."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PLUGIN_SOURCE = """\
#!{python}
# A third-party plugin: it imports the author runtime and nothing of the kernel.
from animus_plugin_protocol.runtime import Plugin

plugin = Plugin("animus-counter", "0.3.0", "custom", "counts calls")
calls = 0


@plugin.method("counter/bump")
async def bump(params, ctx):
    global calls
    calls += params.get("by", 1)
    return {{"calls": calls, "project_root": ctx.project_root}}


plugin.main()
"""


class Animus:
    def __init__(self, root: Path, home: Path) -> None:
        self.root = root
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ANIMUS_PLUGIN", "ANIMUS_MOCK"))
        }
        self.env["ANIMUS_HOME"] = str(home)

    def __call__(self, *args: str, json_mode: bool = True) -> tuple[int, Any, str]:
        argv = [sys.executable, "-m", "animus_cli", "--project-root", str(self.root)]
        if json_mode:
            argv.append("--json")
        done = subprocess.run(
            [*argv, *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.root,
            timeout=120,
            check=False,
        )
        data: Any = done.stdout
        if json_mode and done.returncode == 0 and done.stdout.startswith("{"):
            data = json.loads(done.stdout)["data"]
        return done.returncode, data, done.stderr


@pytest.fixture
def animus(tmp_path: Path) -> Animus:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=30)
    (root / ".animus").mkdir()
    return Animus(root, tmp_path / "home")


def test_third_party_plugin_through_the_cli(animus: Animus, tmp_path: Path) -> None:
    source = tmp_path / "dist" / "animus-counter"
    source.parent.mkdir()
    source.write_text(PLUGIN_SOURCE.format(python=sys.executable))
    source.chmod(0o755)

    code, installed, err = animus("plugin", "install", str(source))
    assert code == 0, err
    assert installed["scope"] == "project"
    lock = animus.root / ".animus" / "plugins.lock"
    assert installed["artifact_sha256"] in lock.read_text()

    code, listed, _ = animus("plugin", "list", "--kind", "custom")
    assert [p["name"] for p in listed["plugins"]] == ["animus-counter"]
    assert listed["plugins"][0]["source"] == "project_dir"

    code, pinged, err = animus("plugin", "ping", "animus-counter")
    assert code == 0, err
    assert pinged["ok"] is True

    bump = ("plugin", "call", "animus-counter", "counter/bump")
    code, called, err = animus(*bump, "--params", '{"by": 5}')
    assert code == 0, err
    assert called["result"] == {"calls": 5, "project_root": str(animus.root.resolve())}

    code, _, err = animus(*bump, "--params", "{by: 5}")
    assert code == 2
    assert "line 1 column 2" in err

    code, verified, _ = animus("plugin", "lock", "verify")
    assert (code, verified["ok"]) == (0, ["animus-counter"])
    exe = Path(installed["path"])
    exe.write_text(exe.read_text().replace("counts calls", "counts calls (patched)"))
    code, _, err = animus("plugin", "lock", "verify")
    assert code == 4
    assert json.loads(err)["error"]["details"]["issues"][0]["problem"] == "modified"
    code, _, err = animus("plugin", "lock", "verify", json_mode=False)
    assert code == 4
    assert "animus-counter (project): executable" in err

    code, dry, _ = animus("plugin", "uninstall", "animus-counter")
    assert dry["dry_run"] is True
    assert exe.exists()
    code, _, _ = animus("plugin", "uninstall", "animus-counter", "--yes")
    assert code == 0
    assert not exe.exists()
    code, _, err = animus("plugin", "info", "animus-counter")
    assert code == 3
    assert "animus plugin list" in err


def test_pip_install_failure_is_reported(animus: Animus, tmp_path: Path) -> None:
    code, _, err = animus("plugin", "install", "--pip", str(tmp_path / "no-such-project"))
    assert code == 2
    error = json.loads(err)["error"]
    assert "failed" in error["message"]


def test_mock_agent_edits_the_project(animus: Animus, tmp_path: Path) -> None:
    script = tmp_path / "edit.yaml"
    script.write_text(
        "steps:\n"
        '  - write_file: {path: README.md, content: "# repo\\n"}\n'
        "  - edit_file: {path: README.md, old: repo, new: Repo}\n"
        '  - run: {command: "git add README.md"}\n'
        "  - text: done\n"
    )
    code, out, err = animus(
        "agent", "run", "--tool", "mock", "--prompt", "add a README",
        "--cwd", str(animus.root), "--script", str(script), json_mode=False,
    )  # fmt: skip
    assert code == 0, err
    assert "[tool] edit_file" in out
    assert (animus.root / "README.md").read_text() == "# Repo\n"
    staged = subprocess.run(
        ["git", "diff", "--cached", "--name-only"],
        cwd=animus.root, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    assert staged.stdout.split() == ["README.md"]
