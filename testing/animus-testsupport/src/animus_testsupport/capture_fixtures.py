"""Re-capture the real CLI stream samples under `animus_testsupport/fixtures/`.

    python -m animus_testsupport.capture_fixtures [OUT_DIR]

Runs the pinned `claude` and `codex` against scripted servers (text, a tool loop, a model
error) and saves each stdout as `<cli>_<case>.jsonl`, with the temp paths replaced by
`/work/project` and `/home/user` so the samples are stable. Re-run after bumping the pins in
`tools/install-agent-clis.sh`; parser tests elsewhere read these files via `fixture_path()`.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animus_testsupport._fixtures import FIXTURES_DIR, fixture_path
from animus_testsupport._server import ScriptedModelServer
from animus_testsupport.clis import claude_bin, codex_bin
from animus_testsupport.realcli import (
    CliRun,
    claude_argv,
    claude_env,
    codex_argv,
    codex_env,
    run_cli,
    write_codex_config,
)

__all__ = ["FIXTURES_DIR", "fixture_path", "main"]

WORK_PLACEHOLDER = "/work/project"
HOME_PLACEHOLDER = "/home/user"


def _claude_cases(work: Path) -> dict[str, list[Any]]:
    target = str(work / "notes.txt")
    return {
        "text": [{"thinking": "A short greeting.", "text": "Hello from the scripted model."}],
        "tools": [
            {
                "text": "Creating the file.",
                "tool_calls": [
                    {"name": "Write", "input": {"file_path": target, "content": "one\n"}}
                ],
            },
            {
                "tool_calls": [
                    {
                        "name": "Edit",
                        "input": {"file_path": target, "old_string": "one", "new_string": "two"},
                    }
                ]
            },
            {"tool_calls": [{"name": "Bash", "input": {"command": "cat notes.txt"}}]},
            {"text": "notes.txt now says two."},
        ],
        "error": [{"error": {"status": 500, "message": "scripted upstream failure"}}],
        # Same text turn, run with --include-partial-messages (adds `stream_event` lines).
        "partial": [
            {
                "thinking": "A short greeting.",
                "text": "Hello from the scripted model.",
                "chunk_size": 8,
            }
        ],
    }


_PATCH = "*** Begin Patch\n*** Update File: notes.txt\n@@\n-one\n+two\n*** End Patch\n"


def _codex_cases() -> dict[str, list[Any]]:
    return {
        "text": [{"thinking": "A short greeting.", "text": "Hello from the scripted model."}],
        "tools": [
            {
                "tool_calls": [
                    {"name": "exec_command", "input": {"cmd": "printf 'one\\n' > notes.txt"}}
                ]
            },
            {"tool_calls": [{"name": "apply_patch", "custom": True, "raw_input": _PATCH}]},
            {"tool_calls": [{"name": "exec_command", "input": {"cmd": "cat notes.txt"}}]},
            {"text": "notes.txt says two."},
        ],
        "error": [{"error": {"status": 400, "message": "scripted bad request"}}],
    }


def _save(out: Path, name: str, run: CliRun, work: Path, home: Path) -> None:
    text = run.stdout.replace(str(work), WORK_PLACEHOLDER).replace(str(home), HOME_PLACEHOLDER)
    (out / name).write_text(text, encoding="utf-8")
    print(f"{name}: {len(run.events)} lines, exit {run.returncode}, {run.seconds:.2f}s")


def _capture(
    out: Path, prefix: str, cases: Callable[[Path], dict[str, list[Any]]], run: Any
) -> None:
    for case in cases(Path(WORK_PLACEHOLDER)):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            work, home = root / "work", root / "home"
            work.mkdir()
            home.mkdir()
            with ScriptedModelServer(cases(work)[case]) as server:
                result = run(server, root, work, home, case)
            _save(out, f"{prefix}_{case}.jsonl", result, work, home)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else FIXTURES_DIR
    out.mkdir(parents=True, exist_ok=True)
    claude, codex = claude_bin(), codex_bin()
    if claude is None or codex is None:
        print("capture_fixtures: run tools/install-agent-clis.sh first", file=sys.stderr)
        return 1

    def run_claude(
        server: ScriptedModelServer, root: Path, work: Path, home: Path, case: str
    ) -> CliRun:
        env = claude_env(server.base_url, home, sandbox=True)
        extra = ["--include-partial-messages"] if case == "partial" else []
        argv = claude_argv(claude, "Make notes.txt", skip_permissions=True, extra=extra)
        return run_cli(argv, env=env, cwd=work, timeout=90)

    def run_codex(
        server: ScriptedModelServer, root: Path, work: Path, home: Path, case: str
    ) -> CliRun:
        codex_home = root / "codex-home"
        write_codex_config(codex_home, server.openai_base_url)
        argv = codex_argv(codex, "Make notes.txt")
        return run_cli(argv, env=codex_env(codex_home, home), cwd=work, timeout=90)

    _capture(out, "claude", _claude_cases, run_claude)
    _capture(out, "codex", lambda _work: _codex_cases(), run_codex)
    return 0


if __name__ == "__main__":
    sys.exit(main())
