"""Finding the ``phase_decision`` an agent printed in its output.

Agents end a phase by printing a JSON object, bare, on its own line, or in a fenced code
block. The last object that carries a ``verdict`` wins, either at the top level or nested
under ``phase_decision`` / ``decision``. Objects are scanned left to right and a decoded
object is skipped as a whole, so a verdict nested inside a larger object (say, a quoted
previous decision) never overrides the object that contains it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

__all__ = ["DEFAULT_SCAN_BYTES", "extract_decision_payload", "iter_json_objects"]

# Decisions come at the end of an output; scanning only its tail bounds the work on
# multi-megabyte transcripts.
DEFAULT_SCAN_BYTES = 1024 * 1024
_NESTED_KEYS = ("phase_decision", "decision")
_decoder = json.JSONDecoder()


def iter_json_objects(text: str) -> Iterator[dict[str, Any]]:
    """Every top-level JSON object embedded in ``text``, in order."""
    pos = text.find("{")
    while pos != -1:
        try:
            value, end = _decoder.raw_decode(text, pos)
        except ValueError:
            pos = text.find("{", pos + 1)
            continue
        if isinstance(value, dict):
            yield value
        pos = text.find("{", end)


def _decision_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    for key in _NESTED_KEYS:
        nested = obj.get(key)
        if isinstance(nested, dict) and "verdict" in nested:
            return nested
    if "verdict" in obj:
        return obj
    return None


def extract_decision_payload(
    text: str, *, scan_bytes: int = DEFAULT_SCAN_BYTES
) -> dict[str, Any] | None:
    """The raw decision object (last match wins), with ``kind`` defaulted; None if absent."""
    tail = text[-scan_bytes:] if len(text) > scan_bytes else text
    found: dict[str, Any] | None = None
    for obj in iter_json_objects(tail):
        decision = _decision_of(obj)
        if decision is not None:
            found = decision
    if found is None:
        return None
    result = dict(found)
    result.setdefault("kind", "phase_decision")
    return result
