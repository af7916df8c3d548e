"""``runs/<run-id>/<phase>.session.json``: which provider session a phase ran, for resume.

Written atomically when the session id is first known (status ``running``) and again when
the session ends (``completed``, ``failed`` or ``cancelled``; a timeout is ``failed`` with
``reason: timeout``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from animus_protocol.envelope import InvalidInputError
from animus_store.atomic import read_json, write_json_atomic

__all__ = [
    "PhaseSessionRecord",
    "SessionStatus",
    "read_session_file",
    "session_file_path",
    "validate_phase_id",
    "write_session_file",
]

SessionStatus = Literal["running", "completed", "failed", "cancelled"]
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def validate_phase_id(value: str, what: str = "phase id") -> str:
    """Phase and run ids name files; refuse anything that is not a plain file-name token."""
    if not isinstance(value, str) or not _SAFE_ID.match(value):
        raise InvalidInputError(
            f"invalid {what} {value!r}: use letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit, at most 200 characters)",
            details={what.replace(" ", "_"): value},
        )
    return value


def session_file_path(run_dir: Path, phase_id: str) -> Path:
    return run_dir / f"{validate_phase_id(phase_id)}.session.json"


@dataclass(frozen=True)
class PhaseSessionRecord:
    provider: str
    tool: str
    model: str | None
    session_id: str | None
    status: SessionStatus
    started_at: str
    updated_at: str
    attempt: int
    run_id: str = ""
    phase_id: str = ""
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None or k == "session_id"}


def write_session_file(path: Path, record: PhaseSessionRecord) -> None:
    write_json_atomic(path, record.to_dict(), indent=2)


def read_session_file(path: Path) -> PhaseSessionRecord | None:
    """The saved record, None when there is none; a damaged file is a clear error."""
    if not path.exists():
        return None
    try:
        data = read_json(path)
    except Exception as exc:
        raise InvalidInputError(f"cannot read the session file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInputError(f"the session file {path} does not hold a JSON object")
    try:
        return PhaseSessionRecord(
            provider=str(data["provider"]),
            tool=str(data["tool"]),
            model=data.get("model"),
            session_id=data.get("session_id"),
            status=data["status"],
            started_at=str(data["started_at"]),
            updated_at=str(data.get("updated_at", data["started_at"])),
            attempt=int(data.get("attempt", 1)),
            run_id=str(data.get("run_id", "")),
            phase_id=str(data.get("phase_id", "")),
            reason=data.get("reason"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"the session file {path} is missing {exc}") from exc
