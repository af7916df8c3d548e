"""Atomic JSON and text files.

A write goes to a temporary file in the target's own directory (same filesystem, so the
rename is atomic), is flushed and fsynced, renamed over the target, and the directory is
fsynced so the rename itself survives a power cut. Readers see the old document or the new
one, never a mix. A file that fails to parse is moved aside, never overwritten.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from animus_store.errors import CorruptStateError, StateWriteError

__all__ = [
    "DEFAULT_FILE_MODE",
    "JsonLoad",
    "fsync_directory",
    "load_json_state",
    "quarantine_file",
    "read_json",
    "read_json_or_default",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_json_if_missing",
    "write_json_pretty",
    "write_text_atomic",
]

log = logging.getLogger("animus_store")

DEFAULT_FILE_MODE = 0o644

PathLike = str | os.PathLike[str]


def fsync_directory(directory: PathLike) -> None:
    """Make a rename or create inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _encode_json(path: Path, data: Any, indent: int | None) -> bytes:
    try:
        text = json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StateWriteError(
            f"cannot write {path}: value is not JSON-serializable ({exc})"
        ) from exc
    if indent is not None:
        text += "\n"
    return text.encode("utf-8")


def _write_temp(directory: Path, name: str, payload: bytes, mode: int) -> Path:
    """A fully written, fsynced temporary file beside the target."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def write_bytes_atomic(path: PathLike, payload: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``payload`` atomically and durably.

    ``mode`` defaults to the existing file's permissions, else 0644. Missing parent
    directories are created.
    """
    target = Path(path)
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if mode is None:
            try:
                mode = target.stat().st_mode & 0o7777
            except FileNotFoundError:
                mode = DEFAULT_FILE_MODE
        tmp = _write_temp(directory, target.name, payload, mode)
        try:
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        fsync_directory(directory)
    except OSError as exc:
        raise StateWriteError(f"cannot write {target}: {exc.strerror or exc}") from exc


def write_text_atomic(
    path: PathLike, text: str, *, encoding: str = "utf-8", mode: int | None = None
) -> None:
    """Replace a text file atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode(encoding), mode=mode)


def write_json_atomic(
    path: PathLike, data: Any, *, indent: int | None = None, mode: int | None = None
) -> None:
    """Replace a JSON file atomically. Compact unless ``indent`` is given."""
    target = Path(path)
    write_bytes_atomic(target, _encode_json(target, data, indent), mode=mode)


def write_json_pretty(path: PathLike, data: Any, *, mode: int | None = None) -> None:
    """Replace a JSON file atomically, indented by two spaces with a final newline."""
    write_json_atomic(path, data, indent=2, mode=mode)


def write_json_if_missing(
    path: PathLike, data: Any, *, indent: int | None = 2, mode: int | None = None
) -> bool:
    """Create ``path`` with ``data`` only if it does not exist. True when this call created it.

    Race-safe across processes: the complete document is written to a temporary file and
    hard-linked into place, which fails if any other process got there first, so the target
    never exists half-written and is never replaced.
    """
    target = Path(path)
    payload = _encode_json(target, data, indent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _write_temp(
            target.parent, target.name, payload, DEFAULT_FILE_MODE if mode is None else mode
        )
        try:
            try:
                os.link(tmp, target)
            except FileExistsError:
                return False
            except OSError as exc:
                if exc.errno not in _NO_HARDLINKS:
                    raise
                # No hard links on this filesystem: exclusive create instead (the content
                # appears in one write, but a reader may briefly see an empty file).
                if not _create_exclusive(
                    target, payload, DEFAULT_FILE_MODE if mode is None else mode
                ):
                    return False
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        fsync_directory(target.parent)
    except OSError as exc:
        raise StateWriteError(f"cannot create {target}: {exc.strerror or exc}") from exc
    return True


_NO_HARDLINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV})


def _create_exclusive(target: Path, payload: bytes, mode: int) -> bool:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def _utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def quarantine_file(path: PathLike, *, expected_inode: int | None = None) -> Path | None:
    """Move ``path`` aside to ``<name>.corrupt-<UTC timestamp>`` without overwriting anything.

    With ``expected_inode``, the file is moved only if it is still that inode (so a file a
    writer replaced since it was read is left alone). Returns the new path, or None when
    there was nothing (or nothing unchanged) to move.
    """
    source = Path(path)
    try:
        if expected_inode is not None and source.stat().st_ino != expected_inode:
            return None
    except FileNotFoundError:
        return None
    base = f"{source.name}.corrupt-{_utc_stamp()}"
    for attempt in range(100):
        candidate = source.with_name(base if attempt == 0 else f"{base}-{attempt}")
        try:
            os.link(source, candidate)  # fails instead of replacing an existing file
        except FileExistsError:
            continue
        except FileNotFoundError:
            return None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(source)
        fsync_directory(source.parent)
        return candidate
    raise StateWriteError(f"cannot move corrupt {source} aside: too many quarantined copies")


@dataclass(frozen=True)
class JsonLoad:
    """What :func:`load_json_state` found: the value, and where a corrupt file went."""

    value: Any
    existed: bool
    quarantined: Path | None = None
    error: str | None = None


def read_json(path: PathLike) -> Any:
    """Parse a JSON file. Raises FileNotFoundError, or CorruptStateError (file left in place)."""
    target = Path(path)
    raw = target.read_bytes()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptStateError(target, str(exc)) from exc


def load_json_state(path: PathLike, default: Any) -> JsonLoad:
    """Read a JSON state file; a missing file gives a copy of ``default``.

    A file that fails to parse is moved aside (see :func:`quarantine_file`), a warning is
    logged, and a copy of ``default`` is returned with ``quarantined`` set.
    """
    target = Path(path)
    try:
        with target.open("rb") as handle:
            inode = os.fstat(handle.fileno()).st_ino
            raw = handle.read()
    except FileNotFoundError:
        return JsonLoad(copy.deepcopy(default), existed=False)
    except OSError as exc:
        raise CorruptStateError(target, f"unreadable: {exc.strerror or exc}") from exc
    try:
        return JsonLoad(json.loads(raw), existed=True)
    except (UnicodeDecodeError, ValueError) as exc:
        moved = quarantine_file(target, expected_inode=inode)
        log.warning("state file %s is not valid JSON (%s); moved aside to %s", target, exc, moved)
        return JsonLoad(copy.deepcopy(default), existed=True, quarantined=moved, error=str(exc))


def read_json_or_default(
    path: PathLike,
    default: Any,
    *,
    on_corrupt: Callable[[CorruptStateError], None] | None = None,
) -> Any:
    """The parsed file, or a copy of ``default`` when it is missing or corrupt.

    A corrupt file is quarantined (never overwritten) and reported: to ``on_corrupt`` when
    given, and always as a warning on the ``animus_store`` logger.
    """
    loaded = load_json_state(path, default)
    if loaded.error is not None and on_corrupt is not None:
        on_corrupt(CorruptStateError(Path(path), loaded.error, loaded.quarantined))
    return loaded.value
