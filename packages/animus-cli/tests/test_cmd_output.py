"""``animus output read|phase-outputs|jsonl|decisions`` on a real finished run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from animus_cli.app import run
from animus_workflow_runner.engine import ExecuteRequest, execute
from animus_workflow_runner.testing import WorkflowProject, make_workflow_project

pytestmark = pytest.mark.timeout(120)

YAML = """
agents:
  builder: { tool: mock }
phases:
  implement: { mode: agent, agent: builder, idempotency: idempotent }
  check:
    mode: command
    idempotency: idempotent
    command: { program: sh, args: ["-c", "echo all good"] }
workflows:
  - id: quick
    worktree: skip
    phases: [implement, check]
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[WorkflowProject, str]:
    p = make_workflow_project(tmp_path_factory.mktemp("out"), YAML)
    p.script(
        "10-implement",
        {
            "match": {"phase": "implement"},
            "steps": [
                {"text": "I wrote the parser."},
                {"decision": {"verdict": "advance", "reason": "parser written", "confidence": 0.8}},
            ],
        },
    )
    task = p.create_task()
    outcome = execute(
        ExecuteRequest(project_root=p.root, task_id=task, workflow_ref="quick", env=p.env)
    )
    assert outcome.status == "completed"
    return p, outcome.workflow_id


def animus(
    p: WorkflowProject,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
) -> tuple[int, str, str]:
    monkeypatch.setenv("ANIMUS_HOME", str(p.home))
    capsys.readouterr()
    code = run(["--project-root", str(p.root), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_read_prints_each_phase_output(
    finished: tuple[WorkflowProject, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p, wf = finished
    code, out, _ = animus(p, capsys, monkeypatch, "output", "read", wf)
    assert code == 0
    assert "== implement (attempt 1, advance) ==" in out
    assert "I wrote the parser." in out
    assert "all good" in out
    code, out, _ = animus(
        p, capsys, monkeypatch, "--json", "output", "read", wf, "--phase", "check"
    )
    data = json.loads(out)["data"]
    assert list(data) == ["check"]
    assert "all good" in data["check"]["output"]


def test_read_of_a_missing_phase_or_run_is_not_found(
    finished: tuple[WorkflowProject, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p, wf = finished
    code, _, err = animus(p, capsys, monkeypatch, "--json", "output", "read", wf, "--phase", "nope")
    assert code == 3
    assert "no completed output for phase 'nope'" in json.loads(err)["error"]["message"]
    for verb in ("read", "phase-outputs", "jsonl", "decisions"):
        code, _, err = animus(p, capsys, monkeypatch, "--json", "output", verb, "wf-missing")
        assert code == 3, verb
        assert "wf-missing" in json.loads(err)["error"]["message"]


def test_phase_outputs_and_decisions(
    finished: tuple[WorkflowProject, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p, wf = finished
    code, out, _ = animus(p, capsys, monkeypatch, "--json", "output", "phase-outputs", wf)
    data = json.loads(out)["data"]
    assert data["implement"]["verdict"] == "advance"
    assert data["check"]["exit_code"] == 0
    code, out, _ = animus(p, capsys, monkeypatch, "--json", "output", "decisions", wf)
    decisions = json.loads(out)["data"]
    assert [(d["phase_id"], d["decision"], d["reason"]) for d in decisions] == [
        ("implement", "advance", "parser written"),
        ("check", "advance", "sh exited 0"),
    ]
    code, out, _ = animus(p, capsys, monkeypatch, "output", "decisions", wf)
    assert code == 0
    assert "parser written" in out


def test_jsonl_prints_events_and_follow_stops_on_a_finished_run(
    finished: tuple[WorkflowProject, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p, wf = finished
    code, out, _ = animus(p, capsys, monkeypatch, "output", "jsonl", wf)
    events = [json.loads(line) for line in out.splitlines()]
    assert events[0]["kind"] == "workflow_started"
    assert events[-1]["kind"] == "workflow_completed"
    code, out, _ = animus(
        p, capsys, monkeypatch, "output", "jsonl", wf, "--phase", "check", "--follow"
    )
    assert code == 0
    phased = [json.loads(line) for line in out.splitlines()]
    assert phased
    assert {e["phase_id"] for e in phased} == {"check"}
    assert Path(p.root).is_dir()
