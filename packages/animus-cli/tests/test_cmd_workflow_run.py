"""``animus workflow run|resume|pause|cancel|phase`` (RUN_COMMANDS, attached here to a
``workflow`` group the way the app attaches them) against real git projects and the mock
provider."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

from animus_cli.commands.workflow_run import RUN_COMMANDS, progress_line
from animus_cli.context import CliContext
from animus_cli.errors import handle_exception
from animus_workflow_runner.testing import WorkflowProject, make_workflow_project

pytestmark = pytest.mark.timeout(120)

YAML = """
agents:
  builder: { tool: mock }
phases:
  implement: { mode: agent, agent: builder, idempotency: idempotent }
  signoff: { mode: manual, manual: { instructions: "Look at it." } }
  check: { mode: command, idempotency: idempotent, command: { program: "true" } }
workflows:
  - id: quick
    phases: [implement, check]
    post_success: { merge: { strategy: squash, target_branch: main } }
  - id: gated
    worktree: skip
    phases: [implement, signoff]
"""


@click.group()
@click.option("--json", "json_output", is_flag=True)
@click.option("--project-root", default=None)
@click.pass_context
def _root(ctx: click.Context, json_output: bool, project_root: str | None) -> None:
    ctx.obj = CliContext(json_output=json_output, project_root_option=project_root)


_workflow = click.Group("workflow")
for _command in RUN_COMMANDS:
    _workflow.add_command(_command)
_root.add_command(_workflow)


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def data(self) -> Any:
        env = json.loads(self.out)
        assert env["ok"] is True
        return env["data"]

    @property
    def error(self) -> dict[str, Any]:
        env = json.loads(self.err.strip().splitlines()[-1])
        assert env["ok"] is False
        return env["error"]  # type: ignore[no-any-return]


Invoke = Callable[..., Result]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WorkflowProject:
    p = make_workflow_project(tmp_path, YAML)
    for key, value in p.env.items():
        monkeypatch.setenv(key, value)
    return p


@pytest.fixture
def animus(project: WorkflowProject, capsys: pytest.CaptureFixture[str]) -> Invoke:
    def invoke(*args: str) -> Result:
        capsys.readouterr()
        argv = ["--project-root", str(project.root), *args]
        try:
            value = _root.main(args=argv, prog_name="animus", standalone_mode=False)
            code = value if isinstance(value, int) else 0
        except BaseException as exc:
            code = handle_exception(exc, json_output="--json" in args, argv=argv)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def test_run_sync_completes_with_progress_and_lands(
    animus: Invoke, project: WorkflowProject
) -> None:
    task = project.create_task()
    res = animus("workflow", "run", "quick", "--task-id", task, "--sync")
    assert res.code == 0, res.err
    assert "▶ implement" in res.err
    assert "■ workflow completed" in res.err
    assert ": completed" in res.out
    with project.hub() as hub:
        assert hub.tasks.get(task).status.value == "done"
    again = animus(
        "--json", "workflow", "run", "quick", "--task-id", project.create_task("b"), "--sync"
    )
    assert again.code == 0
    assert again.data["status"] == "completed"


def test_run_detached_prints_the_run_id_and_the_runner_finishes(
    animus: Invoke, project: WorkflowProject
) -> None:
    task = project.create_task()
    res = animus("--json", "workflow", "run", "quick", "--task-id", task)
    assert res.code == 0, res.err
    run_id = res.data["workflow_id"]
    assert Path(res.data["log"]).name == "runner.log"
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline:
        with project.hub() as hub:
            if hub.runs.exists(run_id):
                status = hub.runs.get(run_id).status.value
        if status == "completed":
            break
        time.sleep(0.1)
    assert status == "completed", Path(res.data["log"]).read_text()


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("workflow", "run", "nope", "--task-id", "TASK-001"), 2, "unknown workflow 'nope'"),
        (("workflow", "run", "quick"), 2, "exactly one of --task-id"),
        (
            ("workflow", "run", "quick", "--task-id", "TASK-001", "--subject", "task:X"),
            2,
            "exactly one",
        ),
        (("workflow", "run", "quick", "--task-id", "TASK-001", "--var", "x"), 2, "KEY=VALUE"),
        (("workflow", "run", "quick", "--task-id", "TASK-001", "--input-json", "{"), 2, "JSON"),
        (("workflow", "run", "quick", "--task-id", "TASK-404"), 3, "TASK-404"),
        (("workflow", "resume", "wf-missing"), 3, "wf-missing"),
        (("workflow", "pause", "wf-missing"), 3, "wf-missing"),
        (("workflow", "phase", "approve", "wf-missing"), 3, "wf-missing"),
    ],
)
def test_bad_input_is_a_clear_error(
    animus: Invoke, project: WorkflowProject, args: tuple[str, ...], code: int, needle: str
) -> None:
    project.create_task()
    res = animus("--json", *args)
    assert res.code == code, res.err
    assert needle in res.error["message"]


def test_a_bad_config_fails_with_file_and_line_before_starting(
    animus: Invoke, project: WorkflowProject
) -> None:
    task = project.create_task()
    (project.root / ".animus" / "workflows.yaml").write_text(
        YAML.replace("agent: builder", "agent: ghost")
    )
    res = animus("--json", "workflow", "run", "quick", "--task-id", task)
    assert res.code == 2
    assert "workflows.yaml:" in res.error["message"]
    with project.hub() as hub:
        assert hub.runs.list().total == 0


def test_manual_gate_approve_resumes_and_finished_runs_refuse_control(
    animus: Invoke, project: WorkflowProject
) -> None:
    task = project.create_task()
    res = animus("--json", "workflow", "run", "gated", "--task-id", task, "--sync")
    assert res.code == 3
    run_id = res.data["workflow_id"]
    assert res.data["status"] == "manual_pending"
    wrong = animus("--json", "workflow", "phase", "approve", run_id, "--phase", "implement")
    assert wrong.code == 4
    assert "waits on phase 'signoff'" in wrong.error["message"]
    ok = animus("--json", "workflow", "phase", "approve", run_id, "--feedback", "fine", "--sync")
    assert ok.code == 0, ok.err
    assert ok.data["status"] == "completed"
    for verb in ("pause", "cancel", "resume"):
        res = animus("--json", "workflow", verb, run_id)
        assert res.code == 4, (verb, res.err)
        assert "already completed" in res.error["message"]
    again = animus("--json", "workflow", "phase", "reject", run_id)
    assert again.code == 4


def test_cancel_of_a_waiting_run_settles_it_and_cancels_the_task(
    animus: Invoke, project: WorkflowProject
) -> None:
    task = project.create_task()
    run_id = animus("--json", "workflow", "run", "gated", "--task-id", task, "--sync").data[
        "workflow_id"
    ]
    busy = animus("--json", "workflow", "run", "gated", "--task-id", task)
    assert busy.code == 4
    assert "already has an active workflow run" in busy.error["message"]
    paused = animus("--json", "workflow", "pause", run_id)
    assert paused.code == 0
    assert paused.data["status"] == "paused"
    res = animus("--json", "workflow", "cancel", run_id)
    assert res.code == 0, res.err
    assert res.data["status"] == "cancelled"
    assert res.data["runner_running"] is False
    with project.hub() as hub:
        assert hub.tasks.get(task).status.value == "cancelled"
        assert hub.runs.checkpoints(run_id)[-1].reason.value == "cancel"


def test_progress_lines_cover_the_main_events() -> None:
    assert (
        progress_line(
            {"kind": "phase_started", "phase_id": "a", "payload": {"attempt": 2, "mode": "agent"}}
        )
        == "▶ a (attempt 2, agent)"
    )
    assert progress_line({"kind": "phase_event", "payload": {"type": "output_chunk"}}) is None
    assert "rework impl (1/3)" in str(
        progress_line(
            {"kind": "rework", "payload": {"target": "impl", "count": 1, "max_attempts": 3}}
        )
    )
