"""Re-capture tests/fixtures/*.jsonl from the real gemini CLI against a ScriptedModelServer.

Run after bumping the pinned @google/gemini-cli: ``uv run python
plugins/animus-provider-gemini/tests/capture_fixtures.py``. Temp paths are replaced by
``/work/project`` and ``/home/user`` so the fixtures are stable.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from animus_testsupport import ScriptedModelServer
from animus_testsupport.clis import gemini_bin
from animus_testsupport.realcli import run_cli

FIXTURES = Path(__file__).parent / "fixtures"


def capture(name: str, script: Any, prompt: str, fmt: str = "stream-json") -> None:
    gemini = gemini_bin()
    assert gemini is not None, "run tools/install-agent-clis.sh first"
    root = Path(tempfile.mkdtemp())
    try:
        work, home = root / "w", root / "h"
        work.mkdir()
        (home / ".gemini").mkdir(parents=True)
        settings = {"security": {"auth": {"selectedType": "gemini-api-key"}}}
        (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
        if callable(script):
            script = script(work)
        with ScriptedModelServer(script) as server:
            env = {
                "PATH": "/usr/bin:/bin",
                "HOME": str(home),
                "GEMINI_API_KEY": "dummy",
                "GOOGLE_GEMINI_BASE_URL": server.base_url,
                "GEMINI_CLI_TRUST_WORKSPACE": "true",
            }
            argv = [str(gemini), "--yolo", "--model", "gemini-2.5-flash"]
            run = run_cli([*argv, "--output-format", fmt, "-p", prompt], env=env, cwd=work)
        text = run.stdout.replace(str(work), "/work/project").replace(str(home), "/home/user")
        (FIXTURES / name).write_text(text, encoding="utf-8")
        print(name, run.returncode, len(text.splitlines()), "lines")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    FIXTURES.mkdir(exist_ok=True)
    capture(
        "gemini_text.jsonl",
        [{"thinking": "Greet.", "text": "Hello from the scripted gemini model.", "chunk_size": 12}],
        "say hello",
    )
    capture(
        "gemini_tools.jsonl",
        lambda work: [
            {
                "text": "I will write the file.",
                "tool_calls": [
                    {
                        "name": "write_file",
                        "input": {"file_path": f"{work}/g.txt", "content": "from gemini\n"},
                    }
                ],
            },
            {"tool_calls": [{"name": "read_file", "input": {"file_path": "/nonexistent/x"}}]},
            {"text": "Wrote g.txt."},
        ],
        "write g.txt",
    )
    failure = {"error": {"status": 404, "message": "models/gemini-nope is not found"}}
    capture("gemini_error.jsonl", {"turns": [failure], "default": failure}, "hi")
    capture(
        "gemini_document.json",
        [{"text": "Hello as one document."}],
        "say hello",
        fmt="json",
    )


if __name__ == "__main__":
    main()
