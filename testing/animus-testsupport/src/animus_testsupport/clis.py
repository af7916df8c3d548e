"""Locate the real agent CLIs installed by `tools/install-agent-clis.sh`, and gate tests on them.

`claude_bin()` / `codex_bin()` / `gemini_bin()` / `opencode_bin()` honour `CLAUDE_BIN` /
`CODEX_BIN` / `GEMINI_BIN` / `OPENCODE_BIN`, else look in the repository's
`.cache/agent-clis/node_modules/.bin/` (or `$AGENT_CLIS_PREFIX/node_modules/.bin/`).
`require_cli(name)` returns the path, or skips the calling test with the install command when the
CLI is missing, except under CI (env `CI` set), where a missing CLI fails the test instead, so
CI can never silently skip the real-CLI tests.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "CLI_ENV_VARS",
    "INSTALL_COMMAND",
    "agent_clis_prefix",
    "claude_bin",
    "codex_bin",
    "find_cli",
    "gemini_bin",
    "opencode_bin",
    "repo_root",
    "require_cli",
]

CLI_ENV_VARS = {
    "claude": "CLAUDE_BIN",
    "codex": "CODEX_BIN",
    "gemini": "GEMINI_BIN",
    "opencode": "OPENCODE_BIN",
}
INSTALL_COMMAND = "tools/install-agent-clis.sh"


def repo_root() -> Path | None:
    """The checkout holding this package (the directory with `tools/install-agent-clis.sh`)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / INSTALL_COMMAND).is_file():
            return parent
    return None


def agent_clis_prefix() -> Path | None:
    """Where the install script puts the CLIs (`$AGENT_CLIS_PREFIX` or `<repo>/.cache/...`)."""
    override = os.environ.get("AGENT_CLIS_PREFIX")
    if override:
        return Path(override)
    root = repo_root()
    return root / ".cache" / "agent-clis" if root is not None else None


def find_cli(name: str) -> Path | None:
    """The executable for `name` (a key of `CLI_ENV_VARS`), or None when it is not installed."""
    if name not in CLI_ENV_VARS:
        raise ValueError(f"unknown agent CLI {name!r}; expected one of {sorted(CLI_ENV_VARS)}")
    override = os.environ.get(CLI_ENV_VARS[name])
    if override:
        path = Path(override)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    prefix = agent_clis_prefix()
    if prefix is None:
        return None
    path = prefix / "node_modules" / ".bin" / name
    return path if path.exists() and os.access(path, os.X_OK) else None


def claude_bin() -> Path | None:
    """The `claude` executable from `@anthropic-ai/claude-code`, or None."""
    return find_cli("claude")


def codex_bin() -> Path | None:
    """The `codex` executable from `@openai/codex`, or None."""
    return find_cli("codex")


def gemini_bin() -> Path | None:
    """The `gemini` executable from `@google/gemini-cli`, or None."""
    return find_cli("gemini")


def opencode_bin() -> Path | None:
    """The `opencode` executable from `opencode-ai`, or None."""
    return find_cli("opencode")


def _missing_reason(name: str) -> str:
    var = CLI_ENV_VARS[name]
    override = os.environ.get(var)
    if override:
        return f"{var}={override} is not an executable file"
    return (
        f"the real {name!r} CLI is not installed; run {INSTALL_COMMAND} "
        f"(or set {var} to the executable)"
    )


def require_cli(name: str) -> Path:
    """Return the CLI's path; skip the test when missing locally, fail when `CI` is set."""
    import pytest

    path = find_cli(name)
    if path is not None:
        return path
    reason = _missing_reason(name)
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so a missing CLI is a failure, not a skip)")
    pytest.skip(reason)
    raise AssertionError("unreachable: pytest.skip raises")  # pragma: no cover
