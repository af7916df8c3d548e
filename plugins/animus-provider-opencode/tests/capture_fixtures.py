"""Re-capture tests/fixtures/*.jsonl from the real opencode CLI against a ScriptedModelServer.

Run after bumping the pinned opencode-ai: ``uv run python
plugins/animus-provider-opencode/tests/capture_fixtures.py``. Temp paths are replaced by
``/work/project`` so the fixtures are stable.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animus_testsupport import ScriptedModelServer
from animus_testsupport.clis import opencode_bin
from animus_testsupport.realcli import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
# Only the agent's own requests offer tools; anything else (a title request) gets the default.
AGENT = {"match": {"api": "chat", "body_contains": '"tools"'}}


def scripted_config(server: ScriptedModelServer) -> dict[str, Any]:
    return {
        "provider": {
            "scripted": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Scripted model server",
                "options": {"baseURL": server.openai_base_url, "apiKey": "dummy"},
                "models": {"m1": {"name": "m1", "tool_call": True, "reasoning": True}},
            }
        },
        "autoupdate": False,
        "share": "disabled",
    }


def capture(name: str, turns: Callable[[Path], list[Any]], prompt: str) -> None:
    opencode = opencode_bin()
    assert opencode is not None, "run tools/install-agent-clis.sh first"
    root = Path(tempfile.mkdtemp())
    try:
        work, home = root / "w", root / "h"
        work.mkdir()
        home.mkdir()
        script = {"turns": [AGENT | t for t in turns(work)], "default": {"text": "A title"}}
        with ScriptedModelServer(script) as server:
            env = {
                "PATH": "/usr/bin:/bin",
                "HOME": str(home),
                "OPENCODE_CONFIG_CONTENT": json.dumps(scripted_config(server)),
                "OPENCODE_DISABLE_AUTOUPDATE": "1",
                "OPENCODE_DISABLE_MODELS_FETCH": "1",
            }
            argv = [str(opencode), "run", "--format", "json", "--thinking", "--auto"]
            run = run_cli([*argv, "-m", "scripted/m1", "--", prompt], env=env, cwd=work)
        text = run.stdout.replace(str(work), "/work/project").replace(str(home), "/home/user")
        (FIXTURES / name).write_text(text, encoding="utf-8")
        print(name, run.returncode, len(text.splitlines()), "lines")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    capture(
        "opencode_text.jsonl",
        lambda work: [{"thinking": "Greet.", "text": "Hello from the scripted opencode model."}],
        "say hello",
    )
    capture(
        "opencode_tools.jsonl",
        lambda work: [
            {
                "text": "I will write the file.",
                "tool_calls": [
                    {
                        "name": "write",
                        "input": {"filePath": f"{work}/o.txt", "content": "from opencode\n"},
                    }
                ],
            },
            {
                "tool_calls": [
                    {
                        "name": "bash",
                        "input": {"command": "cat o.txt; exit 3", "description": "show"},
                    }
                ]
            },
            {"tool_calls": [{"name": "read", "input": {"filePath": f"{work}/missing.txt"}}]},
            {"text": "Wrote o.txt."},
        ],
        "write o.txt",
    )
    capture(
        "opencode_error.jsonl",
        lambda work: [{"error": {"status": 401, "message": "Incorrect API key provided"}}],
        "hi",
    )


if __name__ == "__main__":
    main()
