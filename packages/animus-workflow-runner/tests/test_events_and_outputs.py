from __future__ import annotations

import json
import os
from pathlib import Path

from animus_workflow_runner.events import EVENTS_FILE, WorkflowEventSink, read_events
from animus_workflow_runner.outputs import read_phase_output, read_phase_outputs, write_phase_output
from animus_workflow_runner.steps import KillSwitch, step_key


def test_events_are_numbered_across_reopens_and_filtered_by_phase(tmp_path: Path) -> None:
    seen: list[str] = []
    sink = WorkflowEventSink(tmp_path, "wf-1", listener=lambda r: seen.append(r["kind"]))
    sink.emit("workflow_started", {"x": 1})
    sink.emit("phase_started", {"attempt": 1}, "implement")
    sink.close()
    with (tmp_path / EVENTS_FILE).open("a") as fh:
        fh.write('{"seq": 3, "kind": "torn')  # a torn last line from a crash
    again = WorkflowEventSink(tmp_path, "wf-1")
    record = again.emit("phase_completed", {}, "implement")
    again.close()
    assert record["seq"] == 3  # the torn line never counted
    assert seen == ["workflow_started", "phase_started"]
    events = list(read_events(tmp_path))
    assert [e["seq"] for e in events] == [1, 2, 3]  # the torn line is skipped, not glued
    assert all(set(e) >= {"seq", "ts", "workflow_id", "kind", "payload"} for e in events)
    assert [e["kind"] for e in read_events(tmp_path, "implement")] == [
        "phase_started",
        "phase_completed",
    ]


def test_a_listener_that_raises_never_breaks_the_sink(tmp_path: Path) -> None:
    def broken(_: dict[str, object]) -> None:
        raise RuntimeError("subscriber bug")

    sink = WorkflowEventSink(tmp_path, "wf-2", listener=broken, socket_path=str(tmp_path / "x"))
    assert sink.emit("workflow_started")["seq"] == 1
    sink.close()
    assert json.loads((tmp_path / EVENTS_FILE).read_text())["kind"] == "workflow_started"


def test_phase_outputs_count_only_with_their_completion_marker(tmp_path: Path) -> None:
    write_phase_output(
        tmp_path, "implement", {"phase_id": "implement", "attempt": 2, "output": "x"}
    )
    (tmp_path / "review.json").write_text('{"half": ')  # no marker: never read
    assert read_phase_output(tmp_path, "implement") == {
        "phase_id": "implement",
        "attempt": 2,
        "output": "x",
    }
    assert read_phase_output(tmp_path, "review") is None
    assert list(read_phase_outputs(tmp_path)) == ["implement"]
    assert json.loads((tmp_path / "implement.completed").read_text())["attempt"] == 2
    assert read_phase_outputs(tmp_path / "missing") == {}


def test_the_kill_switch_is_inert_unless_testing() -> None:
    inert = KillSwitch({"ANIMUS_TEST_KILL_AT": "agent.intent:1"})
    assert inert.target is None
    inert.point("agent.intent")  # would SIGKILL this test process if armed
    armed = KillSwitch({"ANIMUS_TESTING": "1", "ANIMUS_TEST_KILL_AT": "merge.effect:2"})
    assert armed.target == ("merge.effect", 2)
    armed.point("merge.effect")  # first time: not yet
    assert armed.seen["merge.effect"] == 1
    assert os.getpid() > 0
    assert step_key("wf", "implement", 2, "agent#4") == "wf:implement:2:agent#4"
