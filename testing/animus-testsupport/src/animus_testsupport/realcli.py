"""Run the real `claude` and `codex` CLIs offline against a `ScriptedModelServer`.

The argv, environment and codex config here are the ones verified to work with the pinned CLI
versions (see docs/testing-with-real-agents.md): nothing leaves 127.0.0.1, HOME and CODEX_HOME
are private temp directories, update checks and telemetry are off.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CLAUDE_MODEL",
    "CODEX_MODEL",
    "CliRun",
    "claude_argv",
    "claude_env",
    "codex_argv",
    "codex_env",
    "run_cli",
    "write_codex_config",
]

CLAUDE_MODEL = "claude-sonnet-4-6"
# A model codex has built-in metadata for; others work but add an `error` item to the stream.
CODEX_MODEL = "gpt-5.5"
CODEX_PROVIDER = "scripted"
CODEX_KEY_VAR = "SCRIPTED_MODEL_API_KEY"

# Variables that make a nested claude think it runs inside another claude session.
_CLAUDE_SESSION_VARS = (
    "CLAUDECODE",
    "CLAUDE_CODE_ENTRYPOINT",
    "CLAUDE_CODE_SESSION_ACCESS_TOKEN",
    "CLAUDE_CODE_SESSION_ID",
)


def _base_env(home: Path, extra: Mapping[str, str] | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),  # noqa: S108 - the system default
    }
    env.update(extra or {})
    return env


def claude_env(
    base_url: str,
    home: Path,
    *,
    sandbox: bool = False,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A clean environment for claude: loopback base URL, a dummy key, a private HOME.

    `sandbox=True` sets `IS_SANDBOX=1`, which claude requires before it accepts
    `--dangerously-skip-permissions` / `--permission-mode bypassPermissions` as root.
    """
    env = _base_env(home, extra)
    env.update(
        {
            "ANTHROPIC_BASE_URL": base_url,
            "ANTHROPIC_API_KEY": "dummy-scripted-key",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        }
    )
    if sandbox:
        env["IS_SANDBOX"] = "1"
    for name in _CLAUDE_SESSION_VARS:
        env.pop(name, None)
    return env


def claude_argv(
    claude: Path | str,
    prompt: str,
    *,
    model: str = CLAUDE_MODEL,
    permission_mode: str | None = None,
    skip_permissions: bool = False,
    resume: str | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """`claude --print --verbose --output-format stream-json ... <prompt>`."""
    argv = [str(claude), "--print", "--verbose", "--output-format", "stream-json"]
    if permission_mode is not None:
        argv += ["--permission-mode", permission_mode]
    if skip_permissions:
        argv.append("--dangerously-skip-permissions")
    if resume is not None:
        argv += ["--resume", resume]
    argv += ["--model", model, *extra, prompt]
    return argv


def write_codex_config(codex_home: Path, openai_base_url: str, *, model: str = CODEX_MODEL) -> Path:
    """Write `config.toml` naming the scripted server as codex's model provider.

    Codex ignores `OPENAI_BASE_URL` alone; it needs a provider with the loopback `base_url`,
    `wire_api = "responses"`, websockets off and an env key. Retries are off so an error turn
    surfaces at once, and update checks and analytics are off so nothing tries the network.
    """
    codex_home.mkdir(parents=True, exist_ok=True)
    path = codex_home / "config.toml"
    path.write_text(
        f"""model = "{model}"
model_provider = "{CODEX_PROVIDER}"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.{CODEX_PROVIDER}]
name = "Scripted model server"
base_url = "{openai_base_url}"
wire_api = "responses"
env_key = "{CODEX_KEY_VAR}"
supports_websockets = false
request_max_retries = 0
stream_max_retries = 0
""",
        encoding="utf-8",
    )
    return path


def codex_env(
    codex_home: Path, home: Path, *, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = _base_env(home, extra)
    env.update({"CODEX_HOME": str(codex_home), CODEX_KEY_VAR: "dummy-scripted-key"})
    return env


def codex_argv(
    codex: Path | str,
    prompt: str,
    *,
    resume: str | None = None,
    sandbox: str | None = "workspace-write",
    extra: Sequence[str] = (),
) -> list[str]:
    """`codex exec [resume <thread_id>] --json --skip-git-repo-check ... <prompt>`."""
    argv = [str(codex), "exec"]
    if resume is not None:
        argv += ["resume", resume]
    argv += ["--json", "--skip-git-repo-check"]
    if sandbox is not None and resume is None:
        argv += ["--sandbox", sandbox]
    argv += [*extra, prompt]
    return argv


@dataclass
class CliRun:
    """A finished CLI run: exit code, raw output, parsed JSON lines, wall time."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    pgid: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    non_json: list[str] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]

    def describe(self) -> str:
        """Everything needed to debug a failed assertion."""
        return (
            f"argv={self.argv}\nexit={self.returncode} timed_out={self.timed_out}\n"
            f"stdout:\n{self.stdout[-4000:]}\nstderr:\n{self.stderr[-4000:]}"
        )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_cli(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout: float = 60.0
) -> CliRun:
    """Run a CLI in its own process group; on timeout kill the whole group."""
    started = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    timed_out = False
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc.pid)
        stdout, stderr = proc.communicate()
    # Helpers the CLI left behind (MCP servers, shells) die with it.
    _kill_group(proc.pid)
    run = CliRun(list(argv), proc.returncode, stdout, stderr, time.monotonic() - started)
    run.timed_out = timed_out
    run.pgid = proc.pid
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            run.non_json.append(line)
            continue
        if isinstance(value, dict):
            run.events.append(value)
        else:
            run.non_json.append(line)
    return run
