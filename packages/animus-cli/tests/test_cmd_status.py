from __future__ import annotations

import json
from pathlib import Path

from animus_cli.testing import Invoke


def test_status_human_and_json(animus: Invoke, project: Path) -> None:
    from animus_core.hub import ServiceHub
    from animus_protocol.workflow import WorkflowRun

    with ServiceHub(project) as hub:
        a = hub.tasks.create(title="first", status="ready").id
        b = hub.tasks.create(title="second", status="ready").id
        hub.tasks.add_dependency(b, a)
        hub.queue.enqueue_subject("task", a, workflow_ref="standard")
        for n in range(4):
            hub.runs.save(
                WorkflowRun(
                    id=f"wf-{n}",
                    task_id=a,
                    subject={"Task": {"id": a}},
                    status="failed",
                    failure_reason=f"boom {n}",
                )
            )
    r = animus("status")
    assert r.code == 0
    assert "tasks     2 (ready 2)" in r.out
    assert "1 queued: 1 pending" in r.out
    assert f"waiting on {a}" in r.out
    assert r.out.count("boom") == 3
    r = animus("--json", "status", "--failures", "1")
    assert r.data["tasks"] == {"ready": 2}
    assert len(r.data["recent_failures"]) == 1
    assert r.data["queue"]["pending"] == 1
    assert r.data["blocked"][0]["waiting_on"] == [a]
    r = animus("--json", "status", "--failures", "-1")
    assert (r.code, r.error["code"]) == (2, "invalid_input")
    assert r.error["details"]["stage"] == "parse"


def test_click_runner_drives_the_same_commands(project: Path) -> None:
    from click.testing import CliRunner

    from animus_cli.app import cli
    from animus_protocol.envelope import NotFoundError

    runner = CliRunner()
    result = runner.invoke(cli, ["--json", "--project-root", str(project), "status"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["data"]["tasks_total"] == 0
    result = runner.invoke(cli, ["--project-root", str(project), "queue", "stats"])
    assert result.exit_code == 0
    assert "pending" in result.stdout
    # Outside run(), a typed error surfaces as the exception itself (run() maps it to exit 3).
    result = runner.invoke(cli, ["--project-root", str(project), "workflow", "get", "nope"])
    assert isinstance(result.exception, NotFoundError)
