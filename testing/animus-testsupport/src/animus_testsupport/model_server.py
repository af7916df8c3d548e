"""The scripted model server: in-process (`ScriptedModelServer`) or as a subprocess.

    python -m animus_testsupport.model_server --script FILE --port-file FILE [--record FILE]

The subprocess form loads the script, binds 127.0.0.1 (an ephemeral port unless `--port`),
writes the port number to `--port-file` (atomically, once listening), appends every request
as a JSON line to `--record` if given, and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from animus_testsupport._recording import RecordedRequest
from animus_testsupport._script import (
    ErrorReply,
    Match,
    Script,
    ScriptError,
    ToolCall,
    Turn,
    load_script,
)
from animus_testsupport._server import ScriptedModelServer

__all__ = [
    "ErrorReply",
    "Match",
    "RecordedRequest",
    "Script",
    "ScriptError",
    "ScriptedModelServer",
    "ToolCall",
    "Turn",
    "load_script",
    "main",
]


def _write_port(path: Path, port: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{port}\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m animus_testsupport.model_server",
        description="Serve a scripted model (Anthropic, OpenAI Responses, chat completions).",
    )
    parser.add_argument(
        "--script",
        required=True,
        help='JSON script: a list of turns or {"turns": [...], "default": {...}}',
    )
    parser.add_argument("--port-file", required=True, help="where to write the bound port")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: ephemeral)")
    parser.add_argument("--record", help="append every request as a JSON line to this file")
    args = parser.parse_args(argv)
    try:
        script = load_script(args.script)
    except ScriptError as exc:
        print(f"model_server: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server = ScriptedModelServer(script, port=args.port, record_path=args.record).start()
    except OSError as exc:
        print(f"model_server: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1
    try:
        _write_port(Path(args.port_file), server.port)
        stop.wait()
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
