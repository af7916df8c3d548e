"""A stand-in for a coding-agent CLI: prints JSON lines (and some junk), sleeps, forks.

Modes (``--mode``): stream, slow, huge, fatal, stubborn, exit3.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time


def emit(obj: object) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def spawn_grandchild(pidfile: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    with open(pidfile, "w", encoding="ascii") as fh:
        fh.write(f"{os.getpid()} {child.pid}\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="stream")
    parser.add_argument("--prompt", default="")
    parser.add_argument("--resume", default=None)
    args = parser.parse_args()
    pidfile = os.environ.get("FAKE_PIDFILE", "")

    emit({"type": "meta", "session_id": "cli-native-1", "resumed": args.resume})
    if args.mode == "stream":
        emit({"type": "delta", "text": "Hello, "})
        emit({"type": "delta", "text": "world"})
        print("this line is not JSON", flush=True)
        print("a warning on stderr", file=sys.stderr, flush=True)
        emit({"type": "thinking", "text": "pondering"})
        emit({"type": "tool_call", "name": "shell", "arguments": {"command": "ls"}})
        emit({"type": "tool_result", "name": "shell", "output": "a.txt", "success": True})
        emit({"type": "usage", "usage": {"input_tokens": 12, "output_tokens": 34}})
        emit({"type": "final", "text": f"done: {args.prompt}"})
        emit({"type": "final", "text": f"done: {args.prompt}"})  # duplicate, suppressed
        return 0
    if args.mode == "exit3":
        emit({"type": "final", "text": "partial"})
        return 3
    if args.mode == "huge":
        sys.stdout.write("x" * 200_000 + "\n")
        emit({"type": "final", "text": "survived"})
        return 0
    if args.mode == "fatal":
        emit({"type": "fatal", "message": "model refused"})
        time.sleep(60)
        return 0
    if args.mode in ("slow", "stubborn"):
        if args.mode == "stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if pidfile:
            spawn_grandchild(pidfile)
        emit({"type": "delta", "text": "working"})
        time.sleep(120)
        return 0
    print(f"unknown mode {args.mode}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
