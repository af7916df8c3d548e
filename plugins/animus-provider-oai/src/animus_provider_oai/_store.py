"""Persisted conversations: one JSON file per session, written atomically after every step."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_plugin_protocol import RpcError

__all__ = ["STATE_DIR_VAR", "Conversation", "ConversationStore", "state_dir_for"]

STATE_DIR_VAR = "ANIMUS_OAI_STATE_DIR"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def state_dir_for(extras: Mapping[str, Any], environ: Mapping[str, str]) -> Path:
    """``state_dir`` extra > ``$ANIMUS_OAI_STATE_DIR`` > ``$ANIMUS_HOME/oai-sessions`` >
    ``~/.animus/oai-sessions``."""
    chosen = extras.get("state_dir")
    if chosen is not None and (not isinstance(chosen, str) or not chosen):
        raise RpcError.invalid_params("state_dir must be a directory path")
    if not chosen:
        chosen = environ.get(STATE_DIR_VAR)
    if not chosen:
        home = environ.get("ANIMUS_HOME") or str(
            Path(environ.get("HOME") or Path.home()) / ".animus"
        )
        chosen = str(Path(home) / "oai-sessions")
    return Path(chosen).expanduser()


@dataclass
class Conversation:
    session_id: str
    model: str
    cwd: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "session_id": self.session_id,
            "model": self.model,
            "cwd": self.cwd,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "messages": self.messages,
        }


class ConversationStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @staticmethod
    def check_id(session_id: str) -> None:
        if not _SAFE_ID.match(session_id):
            raise RpcError.invalid_params(
                f"session_id {session_id!r} is not usable as a conversation name (letters, "
                "digits, '.', '_' and '-', at most 128 characters)"
            )

    def path_of(self, session_id: str) -> Path:
        self.check_id(session_id)
        return self.directory / f"{session_id}.json"

    def exists(self, session_id: str) -> bool:
        return self.path_of(session_id).exists()

    def load(self, session_id: str) -> Conversation:
        path = self.path_of(session_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RpcError.invalid_params(
                f"no oai conversation {session_id!r} in {self.directory}; start it with "
                "agent/run (or pass the same state_dir as the first run)",
                category="not_found",
            ) from None
        except (OSError, ValueError) as exc:
            raise RpcError.internal(
                f"conversation file {path} cannot be read ({exc}); it was left untouched",
                category="session_start_failed",
            ) from None
        messages = data.get("messages") if isinstance(data, dict) else None
        if not isinstance(messages, list):
            raise RpcError.internal(
                f"conversation file {path} has no 'messages' list; it was left untouched",
                category="session_start_failed",
            )
        return Conversation(
            session_id=session_id,
            model=str(data.get("model") or ""),
            cwd=str(data.get("cwd") or ""),
            messages=messages,
            created_at=float(data.get("created_at") or time.time()),
        )

    def save(self, conversation: Conversation) -> Path:
        """Write atomically: temp file in the same directory, fsync, rename, fsync the dir."""
        conversation.updated_at = time.time()
        path = self.path_of(conversation.session_id)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(conversation.to_json(), fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return path
