"""Command phases: run a program, map its exit code to a verdict.

The program runs in its own process group (a timeout kills every process it started) with
the runner's environment plus the phase's ``env``; stdout and stderr go to
``runs/<run-id>/<phase>.command.log`` and the phase keeps a bounded excerpt of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from animus_protocol.envelope import InvalidInputError

__all__ = ["command_cwd", "run_command_phase"]


def command_cwd(spec: Mapping[str, Any], project_root: Path, task_root: Path) -> Path:
    mode = spec.get("cwd_mode") or "task_root"
    if mode == "project_root":
        return project_root
    if mode == "path":
        raw = spec.get("cwd_path")
        if not raw:
            raise InvalidInputError("command phase has cwd_mode path but no cwd_path")
        path = Path(str(raw))
        return path if path.is_absolute() else project_root / path
    return task_root


def _last_json_object(text: str) -> Any:
    for raw in reversed(text.strip().splitlines()):
        line = raw.strip()
        if line.startswith(("{", "[")):
            with contextlib.suppress(ValueError):
                return json.loads(line)
    with contextlib.suppress(ValueError):
        return json.loads(text)
    return None


def run_command_phase(
    spec: Mapping[str, Any],
    *,
    phase_id: str,
    cwd: Path,
    log_path: Path,
    env: Mapping[str, str],
) -> dict[str, Any]:
    """Run the command and return the phase result (JSON-able, journaled as is)."""
    program = str(spec["program"])
    args = [str(a) for a in spec.get("args") or []]
    timeout = float(spec.get("timeout_secs") or 1800)
    ok_codes = [int(c) for c in spec.get("success_exit_codes") or [0]]
    limit = int(spec.get("excerpt_max_chars") or 4000)
    full_env = {**env, **{str(k): str(v) for k, v in (spec.get("env") or {}).items()}}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    timed_out = False
    exit_code: int | None
    try:
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [program, *args],
                cwd=cwd,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                exit_code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                exit_code = None
    except FileNotFoundError:
        return _result(
            spec,
            phase_id,
            success=False,
            exit_code=None,
            output="",
            reason=f"command {program!r} was not found (cwd {cwd})",
            started=started,
        )
    except NotADirectoryError:
        return _result(
            spec,
            phase_id,
            success=False,
            exit_code=None,
            output="",
            reason=f"command working directory {cwd} does not exist",
            started=started,
        )
    output = log_path.read_text(encoding="utf-8", errors="replace")
    excerpt = output if len(output) <= limit else "…" + output[-limit:]
    if timed_out:
        success, reason = False, f"{program} timed out after {timeout:g}s"
    else:
        success = exit_code in ok_codes
        reason = f"{program} exited {exit_code}" + (
            "" if success else f" (success: {', '.join(map(str, ok_codes))})"
        )
    pattern = spec.get("failure_pattern")
    if success and pattern and re.search(str(pattern), output, re.MULTILINE):
        success, reason = False, f"{program} output matches failure_pattern {pattern!r}"
    tail = [line for line in output.strip().splitlines() if line.strip()][-1:]
    if not success and tail:
        reason += f": {tail[0][:300]}"
    result = _result(
        spec,
        phase_id,
        success=success,
        exit_code=exit_code,
        output=excerpt,
        reason=reason,
        started=started,
    )
    if spec.get("parse_json_output"):
        result["json"] = _last_json_object(output)
    return result


def _result(
    spec: Mapping[str, Any],
    phase_id: str,
    *,
    success: bool,
    exit_code: int | None,
    output: str,
    reason: str,
    started: float,
) -> dict[str, Any]:
    verdict = spec.get("on_success_verdict" if success else "on_failure_verdict") or (
        "advance" if success else "fail"
    )
    return {
        "kind": "command",
        "phase_id": phase_id,
        "success": success,
        "exit_code": exit_code,
        "output": output,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "decision": {
            "kind": "phase_decision",
            "phase_id": phase_id,
            "verdict": verdict,
            "confidence": float(spec.get("confidence", 1.0)) if success else 1.0,
            "risk": "low" if success else str(spec.get("failure_risk") or "medium"),
            "reason": reason,
            "evidence": [
                {
                    "kind": "tests_passed" if success else "tests_failed",
                    "description": reason,
                    "value": {"exit_code": exit_code},
                }
            ],
        },
    }
