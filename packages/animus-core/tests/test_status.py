from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from animus_core.hub import ServiceHub
from animus_protocol.envelope import InvalidInputError
from animus_protocol.workflow import WorkflowRun


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ServiceHub]:
    project = tmp_path / "project"
    project.mkdir()
    with ServiceHub(project, env={"ANIMUS_HOME": str(tmp_path / "home")}) as h:
        yield h


def test_report_covers_counts_queue_runs_blocked_stale_and_failures(hub: ServiceHub) -> None:
    a = hub.tasks.create(title="a", status="ready").id
    b = hub.tasks.create(title="b", status="ready").id
    c = hub.tasks.create(title="c", status="ready").id
    hub.tasks.add_dependency(b, a)
    hub.tasks.set_status(c, "in-progress")
    hub.tasks.set_status(c, "blocked", reason="needs a decision")
    stale = hub.tasks.create(title="stale", status="ready").id
    hub.tasks.set_status(stale, "in-progress")
    conn = sqlite3.connect(hub.paths.workflow_db)
    with conn:
        conn.execute(
            "UPDATE tasks SET updated_at = '2020-01-01T00:00:00.000000Z' WHERE id = ?", (stale,)
        )
    conn.close()
    hub.queue.enqueue_subject("task", a, workflow_ref="standard")
    hub.runs.save(WorkflowRun(id="wf-1", task_id=a, subject={"Task": {"id": a}}, status="running"))
    hub.runs.save(
        WorkflowRun(
            id="wf-0",
            task_id=c,
            subject={"Task": {"id": c}},
            status="failed",
            failure_reason="tests failed",
        )
    )
    hub.errors.record("dispatch", "runner crashed", task_id=c)
    report = hub.status.report(failures=5)
    assert report.tasks["ready"] == 2
    assert report.tasks_total == 4
    assert report.queue.pending == 1
    assert [r.id for r in report.active_runs] == ["wf-1"]
    reasons = {t.id: t.reason for t in report.blocked}
    assert reasons[c] == "needs a decision"
    assert reasons[b] == f"waiting on {a}"
    assert [t.id for t in report.stale] == [stale]
    assert report.stale_threshold_hours == 24
    messages = [f.message for f in report.recent_failures]
    assert "tests failed" in messages
    assert "[dispatch] runner crashed" in messages
    assert len(hub.status.report(failures=1).recent_failures) == 1
    assert hub.status.report(failures=0).recent_failures == []
    with pytest.raises(InvalidInputError):
        hub.status.report(failures=-1)


def test_stale_threshold_comes_from_daemon_config(hub: ServiceHub) -> None:
    hub.status.report()
    hub.paths.pm_config.parent.mkdir(parents=True, exist_ok=True)
    hub.paths.pm_config.write_text(json.dumps({"stale_threshold_hours": 2}))
    assert hub.status.report().stale_threshold_hours == 2
    hub.paths.pm_config.write_text("{broken")
    report = hub.status.report()
    assert report.stale_threshold_hours == 24
    assert report.warnings
