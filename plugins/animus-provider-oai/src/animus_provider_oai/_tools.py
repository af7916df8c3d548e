"""The tools the model may call: read / write / edit / list files and run a shell command.

All of them work inside one directory (the session's ``cwd``): paths are relative and
confined (`confined`), and the shell starts there in its own process group, which is killed
on timeout and on cancellation. Tool failures are results (``success: false`` with a message
the model can act on), never exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._paths import PathEscape, confined

__all__ = ["TOOL_SPECS", "ToolBox", "ToolOutcome"]

_MAX_READ_BYTES = 256 * 1024
_MAX_OUTPUT_CHARS = 64 * 1024
_MAX_LIST_ENTRIES = 1000
_DEFAULT_SHELL_TIMEOUT = 120.0
_MAX_SHELL_TIMEOUT = 1800.0
_SKIPPED_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv"})


def _function(name: str, description: str, properties: dict[str, Any], required: list[str]) -> Any:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


_PATH = {"type": "string", "description": "path relative to the working directory"}

TOOL_SPECS: list[Any] = [
    _function(
        "read_file",
        "Read a UTF-8 text file. Optional 1-based start line and line count.",
        {
            "path": _PATH,
            "offset": {"type": "integer", "description": "first line to return (1-based)"},
            "limit": {"type": "integer", "description": "number of lines to return"},
        },
        ["path"],
    ),
    _function(
        "write_file",
        "Create or overwrite a text file with the given content (parent directories are made).",
        {"path": _PATH, "content": {"type": "string"}},
        ["path", "content"],
    ),
    _function(
        "edit_file",
        "Replace an exact snippet of a file. old_string must occur exactly once unless "
        "replace_all is true.",
        {
            "path": _PATH,
            "old_string": {"type": "string"},
            "new_string": {"type": "string"},
            "replace_all": {"type": "boolean"},
        },
        ["path", "old_string", "new_string"],
    ),
    _function(
        "list_files",
        "List a directory (default: the working directory); directories end with '/'.",
        {"path": _PATH, "recursive": {"type": "boolean"}},
        [],
    ),
    _function(
        "shell",
        "Run a shell command (sh -c) in the working directory; returns exit code and output.",
        {
            "command": {"type": "string"},
            "timeout_secs": {"type": "number", "description": "default 120"},
        },
        ["command"],
    ),
]


@dataclass(frozen=True)
class ToolOutcome:
    output: str
    success: bool


def _clip(text: str) -> str:
    if len(text) <= _MAX_OUTPUT_CHARS:
        return text
    return f"{text[:_MAX_OUTPUT_CHARS]}\n... [truncated, {len(text)} chars in total]"


def _atomic_write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ToolBox:
    """Runs tool calls for one session inside ``root``."""

    def __init__(self, root: Path, *, shell_env: Mapping[str, str]) -> None:
        self.root = root
        self.shell_env = dict(shell_env)

    async def run(self, name: str, raw_arguments: str) -> tuple[Any, ToolOutcome]:
        """Parse the model's JSON arguments and run the tool: (parsed arguments, outcome)."""
        try:
            arguments = json.loads(raw_arguments) if raw_arguments.strip() else {}
        except json.JSONDecodeError as exc:
            return raw_arguments, ToolOutcome(f"error: arguments are not valid JSON: {exc}", False)
        if not isinstance(arguments, dict):
            return arguments, ToolOutcome("error: arguments must be a JSON object", False)
        handler = {
            "read_file": self.read_file,
            "write_file": self.write_file,
            "edit_file": self.edit_file,
            "list_files": self.list_files,
            "shell": self.shell,
        }.get(name)
        if handler is None:
            known = ", ".join(spec["function"]["name"] for spec in TOOL_SPECS)
            return arguments, ToolOutcome(f"error: unknown tool {name!r}; tools: {known}", False)
        try:
            return arguments, await handler(arguments)
        except PathEscape as exc:
            return arguments, ToolOutcome(f"error: {exc}", False)
        except (KeyError, TypeError) as exc:
            return arguments, ToolOutcome(f"error: bad arguments for {name}: {exc}", False)
        except OSError as exc:
            return arguments, ToolOutcome(f"error: {exc.strerror or exc}", False)

    # -- files ------------------------------------------------------------------------------

    async def read_file(self, args: Mapping[str, Any]) -> ToolOutcome:
        path = confined(self.root, args["path"])
        if not path.is_file():
            return ToolOutcome(f"error: {args['path']} is not a file", False)
        data = path.read_bytes()[: _MAX_READ_BYTES + 1]
        if b"\x00" in data[:8192]:
            return ToolOutcome(f"error: {args['path']} looks binary; not shown", False)
        text = data[:_MAX_READ_BYTES].decode("utf-8", errors="replace")
        offset, limit = args.get("offset"), args.get("limit")
        if offset is not None or limit is not None:
            lines = text.splitlines(keepends=True)
            start = max(int(offset or 1), 1) - 1
            stop = start + int(limit) if limit is not None else len(lines)
            text = "".join(lines[start:stop])
        elif len(data) > _MAX_READ_BYTES:
            text += f"\n... [file longer than {_MAX_READ_BYTES} bytes; use offset/limit]"
        return ToolOutcome(text, True)

    async def write_file(self, args: Mapping[str, Any]) -> ToolOutcome:
        path = confined(self.root, args["path"])
        content = args["content"]
        if not isinstance(content, str):
            raise TypeError("content must be a string")
        if path.is_dir():
            return ToolOutcome(f"error: {args['path']} is a directory", False)
        existed = path.exists()
        _atomic_write(path, content)
        verb = "overwrote" if existed else "created"
        return ToolOutcome(f"{verb} {args['path']} ({len(content.encode())} bytes)", True)

    async def edit_file(self, args: Mapping[str, Any]) -> ToolOutcome:
        path = confined(self.root, args["path"])
        old, new = args["old_string"], args["new_string"]
        if not isinstance(old, str) or not isinstance(new, str):
            raise TypeError("old_string and new_string must be strings")
        if not old:
            return ToolOutcome("error: old_string is empty; use write_file to create", False)
        if not path.is_file():
            return ToolOutcome(f"error: {args['path']} is not a file", False)
        text = path.read_text(encoding="utf-8")
        count = text.count(old)
        if count == 0:
            return ToolOutcome(f"error: old_string not found in {args['path']}", False)
        if count > 1 and not args.get("replace_all"):
            return ToolOutcome(
                f"error: old_string occurs {count} times in {args['path']}; add surrounding "
                "context to make it unique, or set replace_all",
                False,
            )
        _atomic_write(path, text.replace(old, new))
        return ToolOutcome(f"edited {args['path']} ({count} replacement(s))", True)

    async def list_files(self, args: Mapping[str, Any]) -> ToolOutcome:
        path = confined(self.root, args.get("path") or ".")
        if not path.is_dir():
            return ToolOutcome(f"error: {args.get('path')} is not a directory", False)
        base = self.root.resolve()
        entries: list[str] = []
        pending = [path]
        while pending and len(entries) < _MAX_LIST_ENTRIES:
            current = pending.pop(0)
            for child in sorted(current.iterdir(), key=lambda p: p.name):
                shown = str(child.relative_to(base)) if child != base else "."
                if child.is_dir() and not child.is_symlink():
                    entries.append(shown + "/")
                    if args.get("recursive") and child.name not in _SKIPPED_DIRS:
                        pending.append(child)
                else:
                    entries.append(shown)
                if len(entries) >= _MAX_LIST_ENTRIES:
                    entries.append(f"... [stopped at {_MAX_LIST_ENTRIES} entries]")
                    break
        return ToolOutcome("\n".join(entries) if entries else "(empty directory)", True)

    # -- shell ------------------------------------------------------------------------------

    async def shell(self, args: Mapping[str, Any]) -> ToolOutcome:
        command = args["command"]
        if not isinstance(command, str) or not command.strip():
            raise TypeError("command must be a non-empty string")
        timeout = float(args.get("timeout_secs") or _DEFAULT_SHELL_TIMEOUT)
        timeout = min(max(timeout, 1.0), _MAX_SHELL_TIMEOUT)
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            command,
            cwd=self.root,
            env=self.shell_env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=timeout)
        except TimeoutError:
            await _kill_group(proc)
            return ToolOutcome(f"error: command timed out after {timeout:g}s and was killed", False)
        finally:
            # Cancellation (agent/cancel) lands here too: the command never outlives the run.
            await asyncio.shield(_kill_group(proc))
        text = _clip(out.decode("utf-8", errors="replace"))
        code = proc.returncode
        return ToolOutcome(f"exit code {code}\n{text}", code == 0)


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), timeout=5.0)
