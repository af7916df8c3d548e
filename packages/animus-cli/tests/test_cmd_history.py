from __future__ import annotations

from pathlib import Path

from animus_cli.testing import Invoke


def test_task_recent_search_get_cleanup(animus: Invoke, project: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from animus_core.hub import ServiceHub

    with ServiceHub(project) as hub:
        hub.history.record(
            "workflow-failed",
            task_id="TASK-001",
            workflow_id="wf-1",
            status="failed",
            ts=datetime.now(UTC) - timedelta(days=40),
        )
        rec = hub.history.record(
            "workflow-completed",
            task_id="TASK-001",
            workflow_id="wf-2",
            status="completed",
            message="merged",
        )
        hub.errors.record("dispatch", "runner crashed", task_id="TASK-001")
    r = animus("history", "task", "TASK-001")
    assert r.code == 0
    assert "workflow-completed" in r.out
    assert "workflow-failed" in r.out
    assert len(animus("--json", "history", "task", "TASK-001", "--limit", "1").data) == 1
    assert animus("--json", "history", "recent").data[0]["message"] == "merged"
    r = animus("--json", "history", "search", "--since", "7d")
    assert r.data["total"] == 1
    r = animus("--json", "history", "search", "--status", "failed", "--workflow-id", "wf-1")
    assert r.data["total"] == 1
    assert "merged" in animus("history", "search", "--task-id", "TASK-001").out
    assert animus("--json", "history", "get", str(rec.id)).data["workflow_id"] == "wf-2"
    r = animus("--json", "history", "get", "999")
    assert (r.code, r.error["code"]) == (3, "not_found")
    r = animus("--json", "history", "search", "--since", "someday")
    assert (r.code, r.error["code"]) == (2, "invalid_input")
    assert animus("history", "get", "abc").code == 2
    r = animus("--json", "history", "cleanup")
    assert r.data["count"] == 1
    assert r.data["dry_run"] is True
    assert "dry run" in animus("history", "cleanup", "--days", "30").out
    assert animus("--json", "history", "cleanup", "--yes").data["deleted"] is True
    assert animus("--json", "history", "search").data["total"] == 1
    r = animus("--json", "history", "errors", "list")
    assert r.data["errors"][0]["message"] == "runner crashed"
    assert "runner crashed" in animus("history", "errors", "list").out
    assert animus("--json", "history", "errors", "stats").data["by_category"] == {"dispatch": 1}
    assert animus("history", "errors", "get", "1").code == 0
    assert animus("history", "errors", "get", "99").code == 3
    assert animus("history", "errors", "list", "--severity", "meh").code == 2
    assert animus("--json", "history", "errors", "cleanup").data["count"] == 0
