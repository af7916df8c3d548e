"""Newline-delimited JSON framing: an incremental decoder and a compact encoder.

The decoder has two paths. The fast path handles the common case, one compact frame per
line, with a single ``json.loads`` per line. The slow path handles a frame pretty-printed
across several lines: lines are accumulated while a cheap bracket count (strings removed)
says the value is still open, and the whole value is parsed once it closes. A frame is only
dispatched once the newline after it has arrived, exactly like the reference runtime.

Robustness rules (each one exists because a misbehaving plugin can trigger it):

* Garbage lines become `FrameError` values in stream order and never cost the next frame.
* A line that begins with ``{`` in column 0 always starts a new frame: if a garbage line such
  as a lone ``[`` opened an accumulation, that accumulation is abandoned instead of
  swallowing the good frames behind it. (Pretty printers indent nested values, so the only
  column-0 lines inside a frame are its own opening and closing brackets.)
* Nothing grows past ``max_frame_bytes``: an oversized line is dropped while it streams in
  (until its newline) and an oversized multi-line frame is dropped line by line until the
  next column-0 ``{``.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from pydantic import BaseModel

__all__ = ["MAX_FRAME_BYTES", "FrameDecoder", "FrameError", "encode_frame"]

MAX_FRAME_BYTES = 16 * 1024 * 1024
"""Frames larger than this are rejected (reference: "frames over 16 MiB may be rejected")."""

_EXCERPT_CHARS = 120
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')
_OPENERS = (ord("{"), ord("["))


class FrameError(NamedTuple):
    """A stretch of the stream that was not a frame: why, and the start of what was seen."""

    reason: str
    excerpt: str


def _excerpt(data: bytes | str) -> str:
    if isinstance(data, bytes):
        data = data[: _EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    text = data.strip()
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "..."


def _bracket_balance(line: str) -> int:
    """Openers minus closers on one line, ignoring brackets inside string literals."""
    if '"' in line:
        line = _STRING_LITERAL.sub("", line)
    return line.count("{") + line.count("[") - line.count("}") - line.count("]")


class FrameDecoder:
    """Turns a byte stream into JSON values (and `FrameError`s), in stream order.

    Feed it whatever chunks the pipe delivers; it never holds more than
    ``max_frame_bytes`` of pending input.
    """

    __slots__ = (
        "_acc",
        "_acc_balance",
        "_acc_bytes",
        "_discarding_line",
        "_max",
        "_partial",
        "_partial_bytes",
        "_resyncing",
    )

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        if max_frame_bytes <= 0:
            raise ValueError("max_frame_bytes must be positive")
        self._max = max_frame_bytes
        # Bytes of the current line that has not seen its newline yet.
        self._partial: list[bytes] = []
        self._partial_bytes = 0
        # Lines of a multi-line frame in progress (decoded text, without newlines).
        self._acc: list[str] = []
        self._acc_bytes = 0
        self._acc_balance = 0
        # Dropping the rest of an oversized line, up to its newline.
        self._discarding_line = False
        # Dropping lines of an oversized multi-line frame until a column-0 "{".
        self._resyncing = False

    @property
    def buffered_bytes(self) -> int:
        """How many bytes are held waiting for the end of a frame (always bounded)."""
        return self._partial_bytes + self._acc_bytes

    def feed(self, data: bytes) -> list[object]:
        """Consume a chunk; return every value (or `FrameError`) it completed, in order."""
        out: list[object] = []
        if not data:
            return out
        if self._discarding_line:
            newline = data.find(b"\n")
            if newline < 0:
                return out
            self._discarding_line = False
            data = data[newline + 1 :]
        last_newline = data.rfind(b"\n")
        if last_newline < 0:
            self._hold_partial(data, out)
            return out
        if self._partial:
            self._partial.append(data[: last_newline + 1])
            complete = b"".join(self._partial)
            self._partial.clear()
            self._partial_bytes = 0
        else:
            complete = data[: last_newline + 1]
        rest = data[last_newline + 1 :]
        self._decode_lines(complete, out)
        if rest:
            self._hold_partial(rest, out)
        return out

    def close(self) -> list[FrameError]:
        """End of stream: report a frame that never got its closing newline."""
        errors: list[FrameError] = []
        if self._acc or self._partial:
            pending = "\n".join(self._acc)
            if self._partial:
                pending += "\n" + b"".join(self._partial).decode("utf-8", errors="replace")
            if pending.strip():
                errors.append(FrameError("incomplete frame at end of stream", _excerpt(pending)))
        self._reset_accumulation()
        self._partial.clear()
        self._partial_bytes = 0
        self._discarding_line = False
        self._resyncing = False
        return errors

    # -- internals -------------------------------------------------------------------

    def _hold_partial(self, data: bytes, out: list[object]) -> None:
        self._partial.append(data)
        self._partial_bytes += len(data)
        if self._partial_bytes + self._acc_bytes > self._max:
            head = self._acc[0] if self._acc else self._partial[0]
            out.append(FrameError(f"frame exceeds {self._max} bytes; dropped", _excerpt(head)))
            if self._acc:
                self._reset_accumulation()
                self._resyncing = True
            self._partial.clear()
            self._partial_bytes = 0
            self._discarding_line = True

    def _reset_accumulation(self) -> None:
        self._acc.clear()
        self._acc_bytes = 0
        self._acc_balance = 0

    def _decode_lines(self, complete: bytes, out: list[object]) -> None:
        lines = complete.split(b"\n")
        lines.pop()  # empty remainder after the final newline
        loads = json.loads
        limit = self._max
        for line in lines:
            if self._acc or self._resyncing:
                self._slow_line(line, out)
                continue
            if len(line) > limit:
                out.append(FrameError(f"frame exceeds {limit} bytes; dropped", _excerpt(line)))
                continue
            try:
                out.append(loads(line))
            except (ValueError, RecursionError):
                self._slow_line(line, out)

    def _slow_line(self, line: bytes, out: list[object]) -> None:
        if self._resyncing:
            if not line.startswith(b"{"):
                return
            self._resyncing = False
            self._fresh_line(line, out, compact_failed=False)
            return
        if self._acc:
            if line.startswith(b"{"):
                # A column-0 opener always begins a new frame; whatever was open is garbage.
                out.append(FrameError("incomplete frame abandoned", _excerpt(self._acc[0])))
                self._reset_accumulation()
                self._fresh_line(line, out, compact_failed=False)
                return
            self._continue_accumulation(line, out)
            return
        self._fresh_line(line, out, compact_failed=True)

    def _fresh_line(self, line: bytes, out: list[object], *, compact_failed: bool) -> None:
        stripped = line.strip()
        if not stripped:
            return
        if len(line) > self._max:
            out.append(FrameError(f"frame exceeds {self._max} bytes; dropped", _excerpt(line)))
            return
        if not compact_failed:
            try:
                out.append(json.loads(line))
                return
            except (ValueError, RecursionError):
                pass
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            out.append(FrameError("frame is not valid UTF-8", _excerpt(line)))
            return
        if stripped[0] in _OPENERS and _is_open_prefix(text):
            self._acc.append(text)
            self._acc_bytes = len(line) + 1
            self._acc_balance = _bracket_balance(text)
            return
        out.append(FrameError("frame is not valid JSON", _excerpt(text)))

    def _continue_accumulation(self, line: bytes, out: list[object]) -> None:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            out.append(FrameError("frame is not valid UTF-8", _excerpt(self._acc[0])))
            self._reset_accumulation()
            return
        self._acc.append(text)
        self._acc_bytes += len(line) + 1
        if self._acc_bytes > self._max:
            out.append(
                FrameError(f"frame exceeds {self._max} bytes; dropped", _excerpt(self._acc[0]))
            )
            self._reset_accumulation()
            self._resyncing = True
            return
        self._acc_balance += _bracket_balance(text)
        if self._acc_balance > 0:
            return
        document = "\n".join(self._acc)
        try:
            value = json.loads(document)
        except (ValueError, RecursionError):
            if _is_open_prefix(document):
                return  # the bracket count was fooled (e.g. by garbage); keep reading
            out.append(FrameError("multi-line frame is not valid JSON", _excerpt(document)))
            self._reset_accumulation()
            return
        out.append(value)
        self._reset_accumulation()


def _is_open_prefix(text: str) -> bool:
    """True when ``text`` is a valid but unfinished JSON value (more lines could finish it)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.pos >= len(text.rstrip())
    except (ValueError, RecursionError):
        return False
    return False


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        to_wire = getattr(value, "to_wire", None)
        if to_wire is not None:
            return to_wire()
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_frame(message: object) -> bytes:
    """One compact JSON line (with its ``\\n``) for a dict or a wire model.

    Models omit absent optionals (as Rust serializers do); plain dicts are written as given.
    """
    if isinstance(message, BaseModel):
        message = _default(message)
    try:
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=_default)
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        # Lone surrogates cannot be UTF-8 encoded; escape them instead of failing.
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=True, default=_default)
        return text.encode("ascii") + b"\n"
