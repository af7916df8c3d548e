"""The demo's live progress: one short line per workflow event, as it arrives."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["Live", "count", "short"]


class Live:
    """Turns workflow events (from the daemon's stream or the in-process runner) into one
    short line each, prefixed with the time since the demo started and the task."""

    def __init__(self, write: Callable[[str], None], started: float) -> None:
        self.write = write
        self.started = started
        self.tasks: dict[str, str] = {}  # workflow id -> task id

    def __call__(self, event: dict[str, Any]) -> None:
        payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
        assert isinstance(payload, dict)
        wf = str(event.get("workflow_id") or "")
        if event.get("kind") == "workflow_started" and payload.get("task_id"):
            self.tasks[wf] = str(payload["task_id"])
        phase = str(event.get("phase_id") or payload.get("phase_id") or "")
        text = _event_text(str(event.get("kind") or ""), phase, payload, wf)
        if text is None:
            return
        task = self.tasks.get(wf, wf[-8:])
        self.write(f"{time.monotonic() - self.started:6.1f}s  {task:<9} {text}")

    def say(self, text: str) -> None:
        self.write(f"{time.monotonic() - self.started:6.1f}s  {text}")


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def short(text: Any, width: int = 90) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _tool_text(phase: str, payload: dict[str, Any]) -> str | None:
    inner = payload.get("payload") if isinstance(payload.get("payload"), dict) else {}
    assert isinstance(inner, dict)
    name = inner.get("name") or inner.get("tool_name") or "tool"
    args = inner.get("arguments") if isinstance(inner.get("arguments"), dict) else {}
    assert isinstance(args, dict)
    target = args.get("path") or args.get("command") or ""
    return f"  {phase}: {name} {short(target, 60)}".rstrip()


def _event_text(kind: str, phase: str, p: dict[str, Any], wf: str) -> str | None:
    if kind == "workflow_started":
        return f"run {wf} started: {' → '.join(p.get('phases') or [])}"
    if kind == "phase_started":
        return f"▶ {phase} (attempt {p.get('attempt')})"
    if kind == "phase_event":
        return _tool_text(phase, p) if p.get("type") == "tool_call" else None
    if kind == "phase_decision":
        return f"  {phase} verdict {p.get('verdict')}: {short(p.get('reason'))}"
    if kind == "phase_completed":
        commit = f", commit {str(p['commit'])[:8]}" if p.get("commit") else ""
        return f"✔ {phase} done{commit}"
    if kind == "phase_failed":
        return f"✘ {phase} failed"
    if kind == "rework":
        return (
            f"↺ rework {p.get('count')}/{p.get('max_attempts')}: back to {p.get('target')}"
            f" — {short(p.get('reason'), 70)}"
        )
    if kind == "merge_completed":
        return (
            f"⇢ merged {p.get('branch')} into {p.get('target_branch')} ({str(p.get('commit'))[:8]})"
        )
    if kind in ("merge_conflict", "merge_blocked"):
        return f"✘ {kind.replace('_', ' ')}: {short(p.get('reason') or p.get('files'))}"
    if kind == "workflow_completed":
        return "■ run completed"
    if kind in ("workflow_failed", "workflow_paused", "workflow_cancelled"):
        return f"✘ run {kind.split('_')[1]}: {short(p.get('reason'))}"
    return None
