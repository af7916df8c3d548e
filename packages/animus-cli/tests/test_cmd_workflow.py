from __future__ import annotations

from pathlib import Path

from animus_cli.testing import Invoke


def _seed(project: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from animus_core.hub import ServiceHub
    from animus_protocol.workflow import WorkflowDecisionRecord, WorkflowRun

    old = datetime.now(UTC) - timedelta(days=40)
    with ServiceHub(project) as hub:
        hub.runs.save(
            WorkflowRun(
                id="wf-old",
                task_id="TASK-001",
                subject={"Task": {"id": "TASK-001"}},
                status="completed",
                started_at=old,
                completed_at=old,
                phases=[{"phase_id": "implement", "status": "success"}],
                decision_history=[
                    WorkflowDecisionRecord(phase_id="implement", decision="advance", reason="ok")
                ],
            )
        )
        hub.runs.save(
            WorkflowRun(
                id="wf-live",
                task_id="TASK-002",
                subject={"Task": {"id": "TASK-002"}},
                status="running",
            )
        )
        hub.runs.add_checkpoint(
            "wf-old", "start", "implement", "run-phase", "running", snapshot={"phase": "implement"}
        )


def test_list_get_decisions_checkpoints(animus: Invoke, project: Path) -> None:
    _seed(project)
    r = animus("workflow", "list")
    assert r.code == 0
    assert "wf-old" in r.out
    assert "wf-live" in r.out
    assert animus("--json", "workflow", "list", "--status", "running").data["total"] == 1
    r = animus("--json", "workflow", "get", "wf-old")
    assert r.data["id"] == "wf-old"
    assert r.data["status"] == "completed"
    r = animus("workflow", "get", "--id", "wf-old")
    assert "implement" in r.out
    assert "checkpoints" in r.out
    r = animus("--json", "workflow", "decisions", "wf-old")
    assert r.data[0]["decision"] == "advance"
    assert "advance" in animus("workflow", "decisions", "wf-old").out
    r = animus("--json", "workflow", "checkpoints", "list", "wf-old")
    assert [c["number"] for c in r.data] == [1]
    r = animus("workflow", "checkpoints", "get", "wf-old")
    assert '"phase": "implement"' in r.out
    assert animus("workflow", "checkpoints", "get", "wf-old", "--number", "7").code == 3
    r = animus("--json", "workflow", "checkpoints", "prune", "wf-old", "--keep-last", "0")
    assert r.data == {"workflow_id": "wf-old", "numbers": [1], "dry_run": True}
    assert "dry run" in animus("workflow", "checkpoints", "prune", "wf-old").out
    r = animus("workflow", "checkpoints", "prune", "wf-old", "--keep-last", "0", "--yes")
    assert "deleted checkpoints of wf-old: 1" in r.out
    assert animus("--json", "workflow", "checkpoints", "list", "wf-old").data == []
    assert animus("workflow", "checkpoints", "prune", "nope").code == 3
    r = animus("--json", "workflow", "get", "wf-nope")
    assert (r.code, r.error["code"]) == (3, "not_found")
    assert "workflow list" in r.error["details"]["hint"]
    assert animus("workflow", "list", "--status", "sideways").code == 2


def test_prune_and_delete_are_dry_runs_without_yes(animus: Invoke, project: Path) -> None:
    _seed(project)
    r = animus("--json", "workflow", "prune")
    assert r.data["dry_run"] is True
    assert [x["id"] for x in r.data["runs"]] == ["wf-old"]
    assert "dry run" in animus("workflow", "prune", "--older-than", "30d").out
    assert animus("--json", "workflow", "list").data["total"] == 2
    r = animus("--json", "workflow", "prune", "--older-than", "30d", "--yes")
    assert r.data["deleted"] is True
    assert animus("--json", "workflow", "list").data["total"] == 1
    assert animus("workflow", "prune", "--older-than", "later").code == 2
    assert animus("workflow", "prune", "--status", "running").code == 2
    r = animus("--json", "workflow", "delete", "wf-live")
    assert (r.code, r.error["code"]) == (4, "conflict")
    r = animus("workflow", "delete", "wf-live", "--force")
    assert "dry run" in r.out
    assert animus("workflow", "delete", "wf-live", "--yes").code == 4
    assert animus("workflow", "delete", "wf-live", "--yes", "--force").code == 0
    assert animus("workflow", "delete", "wf-live", "--yes").code == 3
    assert animus("--json", "workflow", "delete").error["code"] == "invalid_input"


def test_config_get_validate_compile(animus: Invoke, project: Path) -> None:
    r = animus("--json", "workflow", "config", "validate")
    assert r.data["valid"] is True
    assert "standard" in r.data["workflows"]
    assert r.data["sources"] == ["<embedded defaults>"]  # before init
    assert animus("init").code == 0
    assert "ok:" in animus("workflow", "config", "validate").out
    r = animus("--json", "workflow", "config", "get", "--workflow", "standard")
    assert r.data["id"] == "standard"
    assert animus("workflow", "config", "get", "--workflow", "nope").code == 3
    r = animus("--json", "workflow", "config", "compile")
    assert Path(r.data["path"]).is_file()
    bad = project / ".animus" / "workflows" / "bad.yaml"
    bad.write_text(
        "workflows:\n  - id: broken\n    phases: [nope]\n  - id: two\n    phases: [gone]\n"
    )
    r = animus("workflow", "config", "validate")
    assert r.code == 2
    lines = [line for line in r.err.splitlines() if str(bad) in line]
    assert len(lines) == 2
    assert lines[0].startswith(f"{bad}:3:")
    assert "unknown phase 'nope'" in lines[0]
    r = animus("--json", "workflow", "config", "validate")
    assert (r.code, r.error["code"]) == (2, "invalid_input")
    assert len(r.error["details"]["diagnostics"]) == 2
    assert animus("workflow", "config", "compile").code == 2


def test_run_commands_are_attached(animus: Invoke) -> None:
    r = animus("workflow", "--help")
    assert r.code == 0
    for verb in ("run", "resume", "pause", "cancel", "phase", "list", "prune", "config"):
        assert f"  {verb} " in r.out, verb
