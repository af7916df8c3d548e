"""Running a script: one :class:`MockRun` per ``agent/run`` / ``agent/resume`` turn.

File steps are confined to the session cwd (a path that resolves outside it is refused).
``run`` commands execute in their own process group so cancel can kill every process they
started. ``sleep`` and ``run`` wait on the run's cancel event, so ``agent/cancel`` ends a
run promptly with -32002.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_plugin_protocol import ErrorCode, RpcError
from animus_provider_mock._script import Script, Step

__all__ = ["BACKEND", "MockRun", "SessionState"]

BACKEND = "mock:scripted"
_RUN_OUTPUT_CAP = 64 * 1024

Notify = Callable[[str, Any], None]


@dataclass
class SessionState:
    """What a session remembers between turns (kept in the provider process)."""

    session_id: str
    script: Script
    next_step: int = 0
    finished: bool = False
    turns: int = 0


@dataclass
class MockRun:
    session: SessionState
    steps: tuple[Step, ...]
    start_index: int
    cwd: Path
    env: Mapping[str, str]
    notify: Notify
    cancel_event: asyncio.Event = field(default_factory=asyncio.Event)
    texts: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)
    metadata: list[Any] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)
    verdict: Any = None
    _child: asyncio.subprocess.Process | None = None

    @property
    def sid(self) -> str:
        return self.session.session_id

    # -- notifications -----------------------------------------------------------------------

    def _output(self, text: str, final: bool = False) -> None:
        self.notify(
            "agent/output",
            {
                "kind": "output",
                "session_id": self.sid,
                "text": text,
                "final": final,
                "is_final": final,
            },
        )

    def _tool_call(self, name: str, arguments: Any) -> None:
        self.tool_calls.append({"tool": name, "arguments": arguments, "server": None})
        self.notify(
            "agent/toolCall",
            {
                "kind": "toolCall",
                "session_id": self.sid,
                "name": name,
                "arguments": arguments,
                "server": None,
            },
        )

    def _tool_result(self, name: str, output: Any, success: bool) -> None:
        self.tool_results.append({"tool": name, "output": output, "success": success})
        self.notify(
            "agent/toolResult",
            {
                "kind": "toolResult",
                "session_id": self.sid,
                "name": name,
                "output": output,
                "success": success,
            },
        )

    # -- the loop ----------------------------------------------------------------------------

    async def execute(self) -> dict[str, Any]:
        started = time.monotonic()
        self.session.turns += 1
        try:
            for index in range(self.start_index, len(self.steps)):
                # A step cut short (cancel, fail) counts as taken: resume goes on after it.
                self.session.next_step = index + 1
                await self._step(self.steps[index])
        finally:
            await self._kill_child()
        self.session.finished = True
        output = "\n".join(self.texts)
        if output:
            self._output(output, final=True)
        response: dict[str, Any] = {
            "session_id": self.sid,
            "exit_code": 0,
            "output": output,
            "duration_ms": int((time.monotonic() - started) * 1000),
            "backend": BACKEND,
        }
        if self.metadata:
            response["metadata"] = self.metadata
        if self.tool_calls:
            response["tool_calls"] = self.tool_calls
        if self.tool_results:
            response["tool_results"] = self.tool_results
        if self.thinking:
            response["thinking"] = self.thinking
        if self.tokens:
            response["tokens_used"] = {
                "input": self.tokens.get("input", 0),
                "output": self.tokens.get("output", 0),
            }
        if self.verdict is not None:
            response["decision_verdict"] = self.verdict
        return response

    async def _step(self, step: Step) -> None:
        if self.cancel_event.is_set():
            raise RpcError.cancelled(f"session {self.sid} cancelled")
        kind, arg = step.kind, step.arg
        if kind == "text":
            self.texts.append(str(arg))
            self._output(str(arg))
        elif kind == "thinking":
            self.thinking.append(str(arg))
            self.notify(
                "agent/thinking", {"kind": "thinking", "session_id": self.sid, "text": str(arg)}
            )
        elif kind == "tool_call":
            spec = _mapping(arg, "tool_call")
            self._tool_call(str(spec.get("name", "tool")), spec.get("arguments"))
        elif kind == "tool_result":
            spec = _mapping(arg, "tool_result")
            self._tool_result(
                str(spec.get("name", "tool")), spec.get("output"), bool(spec.get("success", True))
            )
        elif kind == "write_file":
            spec = _mapping(arg, "write_file")
            path = self._confined(spec.get("path"))
            content = str(spec.get("content", ""))
            self._tool_call("write_file", {"path": str(spec.get("path")), "bytes": len(content)})
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            self._tool_result("write_file", f"wrote {len(content)} bytes to {path}", True)
        elif kind == "edit_file":
            self._edit(_mapping(arg, "edit_file"))
        elif kind == "run":
            command = arg.get("command") if isinstance(arg, Mapping) else arg
            await self._run(str(command))
        elif kind == "decision":
            decision = dict(_mapping(arg, "decision"))
            decision.setdefault("verdict", "advance")
            self.verdict = decision["verdict"]
            line = json.dumps({"kind": "phase_decision", **decision}, sort_keys=True)
            self.texts.append(line)
            self._output(line)
        elif kind == "sleep":
            seconds = float(arg.get("seconds", 0) if isinstance(arg, Mapping) else arg)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.cancel_event.wait(), timeout=seconds)
            if self.cancel_event.is_set():
                raise RpcError.cancelled(f"session {self.sid} cancelled")
        elif kind == "fail":
            message = arg.get("message") if isinstance(arg, Mapping) else arg
            self.notify(
                "agent/error",
                {
                    "kind": "error",
                    "session_id": self.sid,
                    "message": str(message),
                    "recoverable": False,
                },
            )
            raise RpcError(
                ErrorCode.INTERNAL_ERROR, str(message or "scripted failure"), category="run_failed"
            )
        elif kind == "crash":
            code = int(arg.get("exit_code", 1) if isinstance(arg, Mapping) else (arg or 1))
            marker = arg.get("once_marker") if isinstance(arg, Mapping) else None
            if marker is not None:
                # Crash only the first time: the marker file remembers it across processes.
                marker_path = self._confined(marker)
                if marker_path.exists():
                    return
                marker_path.write_text("crashed\n", encoding="utf-8")
            sys.stderr.write(f"animus-provider-mock: scripted crash (exit code {code})\n")
            sys.stderr.flush()
            os._exit(code)
        elif kind == "usage":
            spec = _mapping(arg, "usage")
            for key in ("input", "output"):
                self.tokens[key] = self.tokens.get(key, 0) + int(spec.get(key, 0))
            self.metadata.append({"type": "mock_usage", "usage": dict(spec)})

    def _confined(self, raw: Any) -> Path:
        if not isinstance(raw, str) or not raw:
            raise RpcError.invalid_params("mock script: a file step needs a 'path' string")
        root = self.cwd.resolve()
        path = (root / raw).resolve()
        if path != root and root not in path.parents:
            raise RpcError.invalid_params(
                f"mock script: path {raw!r} escapes the session cwd {root}"
            )
        return path

    def _edit(self, spec: Mapping[str, Any]) -> None:
        path = self._confined(spec.get("path"))
        old, new = str(spec.get("old", "")), str(spec.get("new", ""))
        self._tool_call("edit_file", {"path": str(spec.get("path")), "old": old, "new": new})
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            self._tool_result("edit_file", f"cannot read {path}: {exc}", False)
            return
        if old not in text:
            self._tool_result("edit_file", f"{old!r} not found in {path}", False)
            return
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        self._tool_result("edit_file", f"edited {path}", True)

    async def _run(self, command: str) -> None:
        self._tool_call("shell", {"command": command})
        env = dict(os.environ)
        env.update(self.env)
        self._child = await asyncio.create_subprocess_shell(
            command,
            cwd=str(self.cwd),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        reading = asyncio.ensure_future(self._child.communicate())
        cancelled = asyncio.ensure_future(self.cancel_event.wait())
        try:
            await asyncio.wait({reading, cancelled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
        if self.cancel_event.is_set():
            await self._kill_child()
            reading.cancel()
            raise RpcError.cancelled(f"session {self.sid} cancelled")
        out, _ = reading.result()
        code = self._child.returncode
        self._child = None
        text = out[:_RUN_OUTPUT_CAP].decode("utf-8", "replace")
        self._tool_result("shell", {"exit_code": code, "output": text}, code == 0)

    async def _kill_child(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(child.wait(), 5)


def _mapping(arg: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(arg, Mapping):
        raise RpcError.invalid_params(f"mock script: step {kind!r} needs a mapping")
    return arg


def new_session_id() -> str:
    return f"mock-{uuid.uuid4()}"
