"""``animus output``: what a run produced — agent output text, phase outputs, the workflow
event log (optionally followed live), decisions."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from animus_cli.commands._runs_common import say
from animus_cli.context import get_context
from animus_cli.output import emit, emit_json_line, print_table

__all__ = ["command"]

FOLLOW_POLL_SECS = 0.2


@click.group("output")
def command() -> None:
    """What a run produced: read, phase-outputs, jsonl (events), decisions."""


def _outputs(workflow_id: str) -> dict[str, dict[str, Any]]:
    from animus_workflow_runner.outputs import read_phase_outputs

    hub = get_context().hub
    hub.runs.get(workflow_id)  # NotFoundError for an unknown run
    return read_phase_outputs(hub.paths.phase_outputs_dir(workflow_id))


def _check_phase(outputs: dict[str, Any], workflow_id: str, phase: str | None) -> None:
    from animus_protocol.envelope import NotFoundError

    if phase is not None and phase not in outputs:
        raise NotFoundError(
            f"run {workflow_id} has no completed output for phase {phase!r}",
            details={"workflow_id": workflow_id, "phase_id": phase, "phases": sorted(outputs)},
            hint=f"phases with output: {', '.join(sorted(outputs)) or '(none yet)'}",
        )


@command.command("read")
@click.argument("workflow_id")
@click.option("--phase", default=None, help="Only this phase.")
def read(workflow_id: str, phase: str | None) -> None:
    """The output text of each completed phase (the agent's answer, a command's excerpt)."""
    outputs = _outputs(workflow_id)
    _check_phase(outputs, workflow_id, phase)
    chosen = {k: v for k, v in outputs.items() if phase is None or k == phase}
    data = {
        k: {"attempt": v.get("attempt"), "verdict": v.get("verdict"), "output": v.get("output", "")}
        for k, v in chosen.items()
    }

    def human(_: Any) -> None:
        if not data:
            say("(no phase output yet)")
        for pid, item in data.items():
            if phase is None:
                say(f"== {pid} (attempt {item['attempt']}, {item['verdict']}) ==")
            say(str(item["output"]).rstrip())

    emit(data, human)


@command.command("phase-outputs")
@click.argument("workflow_id")
def phase_outputs(workflow_id: str) -> None:
    """Every completed phase output record (verdict, decision, commit, usage)."""
    outputs = _outputs(workflow_id)
    emit(
        outputs,
        lambda _: print_table(
            [
                {"phase_id": k, **v, "output": str(v.get("output", ""))[:60]}
                for k, v in outputs.items()
            ],
            ["phase_id", "attempt", "mode", "verdict", "tokens", "cost_usd", "output"],
            empty="(no phase output yet)",
        ),
    )


_WAITING = {"completed", "failed", "escalated", "cancelled", "paused"}


@command.command("jsonl")
@click.argument("workflow_id")
@click.option("--phase", default=None, help="Only events of this phase.")
@click.option("--follow", is_flag=True, help="Keep printing new events until the run stops.")
def jsonl(workflow_id: str, phase: str | None, follow: bool) -> None:
    """The run's workflow events as JSON lines (runs/<id>/workflow-events.jsonl)."""
    from animus_workflow_runner.events import EVENTS_FILE

    hub = get_context().hub
    hub.runs.get(workflow_id)
    path = hub.paths.run_dir(workflow_id) / EVENTS_FILE
    position = 0
    while True:
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                fh.seek(position)
                while True:
                    line = fh.readline()
                    if not line.endswith("\n"):
                        break  # a partial line: read it whole next time
                    position = fh.tell()
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if phase is None or record.get("phase_id") == phase:
                        emit_json_line(record)
        if not follow:
            return
        if hub.runs.get(workflow_id).status.value in _WAITING:
            # One last read catches events written just before the status changed.
            follow = False
            continue
        time.sleep(FOLLOW_POLL_SECS)
        sys.stdout.flush()


@command.command("decisions")
@click.argument("workflow_id")
def decisions(workflow_id: str) -> None:
    """Every verdict of a run with its reason, oldest first."""
    records = get_context().hub.runs.decisions(workflow_id)
    emit(
        records,
        lambda _: print_table(
            [r.to_wire() for r in records],
            ["timestamp", "phase_id", "decision", "source", "confidence", "target_phase", "reason"],
            empty="(no decisions yet)",
        ),
    )
