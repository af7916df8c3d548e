"""Finding the ``phase_decision`` an agent printed in its output.

Agents end a phase by printing a JSON object, bare, on its own line, or in a fenced code
block. The last object that carries a ``verdict`` wins, either at the top level or nested
under ``phase_decision`` / ``decision``. Objects are scanned left to right and a decoded
object is skipped as a whole, so a verdict nested inside a larger object (say, a quoted
previous decision) never overrides the object that contains it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from animus_protocol.workflow import PhaseDecision

__all__ = [
    "DEFAULT_SCAN_BYTES",
    "decision_from_payload",
    "extract_decision_payload",
    "iter_json_objects",
    "parse_phase_decision",
]

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


def _confidence(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, str):
        text = value.strip().rstrip("%")
        try:
            number = float(text)
        except ValueError:
            return 0.0
        # "80%" is a percentage; PhaseDecision clamps the rest into [0, 1].
        return number / 100 if value.strip().endswith("%") else number
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return 0.0


def _evidence_item(item: Any) -> dict[str, Any] | None:
    if isinstance(item, str):
        return {"kind": "custom", "description": item} if item.strip() else None
    if not isinstance(item, Mapping):
        return None
    out = {str(k): v for k, v in item.items()}
    kind = out.get("kind", out.get("type", "custom"))
    out["kind"] = kind if isinstance(kind, str) and kind.strip() else "custom"
    out.pop("type", None)
    description = out.get("description", "")
    out["description"] = description if isinstance(description, str) else json.dumps(description)
    if out.get("file_path") is not None and not isinstance(out["file_path"], str):
        out["file_path"] = str(out["file_path"])
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v) for v in value]
    return []


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _normalized(payload: Mapping[str, Any], phase_id: str) -> dict[str, Any]:
    """Agents write loose JSON; fold it into what :class:`PhaseDecision` accepts."""
    out = dict(payload)
    out["kind"] = "phase_decision"
    out["phase_id"] = phase_id
    verdict = out.get("verdict")
    out["verdict"] = verdict if isinstance(verdict, str) else "unknown"
    out["confidence"] = _confidence(out.get("confidence"))
    reason = out.get("reason", "")
    out["reason"] = reason if isinstance(reason, str) else json.dumps(reason)
    risk = out.get("risk")
    out["risk"] = risk if isinstance(risk, str) else None
    evidence = out.get("evidence")
    items = evidence if isinstance(evidence, list) else ([evidence] if evidence else [])
    out["evidence"] = [e for e in map(_evidence_item, items) if e is not None]
    out["guardrail_violations"] = _strings(out.get("guardrail_violations"))
    out["commit_message"] = _optional_text(out.get("commit_message"))
    out["target_phase"] = _optional_text(out.get("target_phase"))
    return out


def parse_phase_decision(
    output: str, phase_id: str, *, scan_bytes: int = DEFAULT_SCAN_BYTES
) -> PhaseDecision | None:
    """The agent's ``phase_decision`` in ``output`` with the reference's defaults.

    ``kind`` is ``phase_decision``, the verdict is required (an object without one is not
    a decision), confidence defaults to 0.0 (clamped into [0, 1]), risk to ``medium``, and
    an unrecognised verdict is kept as ``unknown``. Malformed optional fields fall back to
    their defaults instead of losing the decision. None when there is no decision.
    """
    payload = extract_decision_payload(output, scan_bytes=scan_bytes)
    if payload is None:
        return None
    return decision_from_payload(payload, phase_id)


def decision_from_payload(payload: Mapping[str, Any], phase_id: str) -> PhaseDecision:
    """A :class:`PhaseDecision` from a raw decision object (see :func:`parse_phase_decision`)."""
    data = _normalized(payload, phase_id)
    try:
        return PhaseDecision.model_validate(data)
    except ValidationError:
        # Something unusual in an extra field: keep the universal envelope only.
        core = {k: data[k] for k in _ENVELOPE if k in data}
        return PhaseDecision.model_validate(core)


_ENVELOPE = (
    "kind",
    "phase_id",
    "verdict",
    "confidence",
    "risk",
    "reason",
    "evidence",
    "guardrail_violations",
    "commit_message",
    "target_phase",
)
