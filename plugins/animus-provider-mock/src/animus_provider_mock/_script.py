"""Mock scripts: what the scripted "agent" does, step by step, and how one is chosen.

A script is YAML or JSON: either a bare list of steps or a mapping with ``steps`` and
optionally ``match`` (``{phase: implement}`` / ``{prompt_contains: "..."}``) and ``resume``
(steps for ``agent/resume`` turns). Each step is a one-key mapping, e.g. ``{text: "hi"}``,
``{write_file: {path: a.txt, content: "x"}}``, ``{sleep: 2}``.

Where the script comes from, first hit wins: request ``mock_script`` (inline mapping, list
or YAML/JSON text), request ``mock_script_file`` (relative to the session cwd), the files of
``$ANIMUS_MOCK_SCRIPT_DIR`` (sorted by name; the first whose ``match`` fits), else the
built-in default: a short text and an ``advance`` decision.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animus_plugin_protocol import RpcError

__all__ = ["STEP_KINDS", "Script", "Step", "choose_script", "parse_script"]

STEP_KINDS = frozenset(
    {
        "text",
        "thinking",
        "tool_call",
        "tool_result",
        "write_file",
        "edit_file",
        "run",
        "decision",
        "sleep",
        "fail",
        "crash",
        "usage",
    }
)

DEFAULT_SCRIPT_DOC: dict[str, Any] = {
    "steps": [
        {"text": "Mock agent: nothing was scripted for this prompt, so it reports success."},
        {
            "decision": {
                "verdict": "advance",
                "reason": "mock provider default script",
                "confidence": 1.0,
                "risk": "low",
                "evidence": [],
            }
        },
    ]
}


@dataclass(frozen=True)
class Step:
    kind: str
    arg: Any


@dataclass(frozen=True)
class Script:
    steps: tuple[Step, ...]
    resume: tuple[Step, ...] | None = None
    match: Mapping[str, Any] = field(default_factory=dict)
    origin: str = "default"


def _bad(message: str) -> RpcError:
    return RpcError.invalid_params(f"mock script: {message}")


def _parse_steps(raw: Any, where: str) -> tuple[Step, ...]:
    if not isinstance(raw, list):
        raise _bad(f"{where} must be a list of steps")
    steps: list[Step] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping) or len(item) != 1:
            raise _bad(f"{where}[{index}] must be a mapping with exactly one step kind")
        ((kind, arg),) = item.items()
        if kind not in STEP_KINDS:
            known = ", ".join(sorted(STEP_KINDS))
            raise _bad(f"{where}[{index}]: unknown step {kind!r} (known: {known})")
        steps.append(Step(str(kind), arg))
    return tuple(steps)


def _load_text(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    import yaml  # only for YAML scripts: JSON ones (the common case) skip ~15 ms of import

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _bad(f"{origin} is neither JSON nor YAML: {exc}") from exc


def parse_script(raw: Any, origin: str = "inline") -> Script:
    """A :class:`Script` from a decoded document (or YAML/JSON text)."""
    if isinstance(raw, str):
        raw = _load_text(raw, origin)
    if isinstance(raw, list):
        return Script(_parse_steps(raw, "steps"), origin=origin)
    if not isinstance(raw, Mapping):
        raise _bad(f"{origin} must be a list of steps or a mapping with 'steps'")
    match = raw.get("match") or {}
    if not isinstance(match, Mapping):
        raise _bad(f"{origin}: 'match' must be a mapping")
    resume = raw.get("resume")
    return Script(
        _parse_steps(raw.get("steps", []), "steps"),
        _parse_steps(resume, "resume") if resume is not None else None,
        dict(match),
        origin,
    )


def _matches(match: Mapping[str, Any], prompt: str, phase: str | None) -> bool:
    want_phase = match.get("phase")
    if want_phase is not None and str(want_phase) != (phase or ""):
        return False
    needle = match.get("prompt_contains")
    return needle is None or str(needle) in prompt


def _phase_of(request: Mapping[str, Any]) -> str | None:
    for key in ("phase", "phase_id"):
        value = request.get(key)
        if isinstance(value, str):
            return value
    contract = request.get("runtime_contract")
    if isinstance(contract, Mapping):
        for key in ("phase", "phase_id"):
            value = contract.get(key)
            if isinstance(value, str):
                return value
    return None


def choose_script(request: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Script:
    """The script for this request (see the module docstring for the order)."""
    env = os.environ if env is None else env
    inline = request.get("mock_script")
    if inline is not None:
        return parse_script(inline, "mock_script")
    file_name = request.get("mock_script_file")
    if file_name is not None:
        path = Path(str(request.get("cwd") or ".")) / str(file_name)
        try:
            return parse_script(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise _bad(f"cannot read mock_script_file {path}: {exc}") from exc
    directory = env.get("ANIMUS_MOCK_SCRIPT_DIR")
    if directory:
        prompt = str(request.get("prompt", ""))
        phase = _phase_of(request)
        for path in sorted(Path(directory).glob("*")):
            if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
                continue
            script = parse_script(path.read_text(encoding="utf-8"), str(path))
            if _matches(script.match, prompt, phase):
                return script
    return parse_script(DEFAULT_SCRIPT_DOC, "default")
