from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from animus_store import Database, read_json
from animus_store.migrate import (
    import_legacy_workflows,
    migrate_all,
    migrate_repo_local_state,
    migrate_state_machines,
)
from animus_store.scope_root import ensure_scope_root

WORKFLOW = {
    "id": "wf-legacy-1",
    "task_id": "TASK-007",
    "workflow_ref": "standard",
    "subject": {"Task": {"id": "TASK-007"}},
    "status": "failed",
    "current_phase_index": 1,
    "phases": [{"phase_id": "implement"}, {"phase_id": "review"}],
    "started_at": "2025-05-01T10:00:00Z",
    "completed_at": "2025-05-01T11:00:00Z",
    "failure_reason": "review rejected",
    "checkpoint_metadata": {
        "checkpoint_count": 2,
        "checkpoints": [
            {
                "number": 1,
                "timestamp": "2025-05-01T10:00:00Z",
                "reason": "start",
                "machine_state": "idle",
                "status": "running",
            },
            {
                "number": 2,
                "timestamp": "2025-05-01T11:00:00Z",
                "reason": "status-change",
                "phase_id": "review",
                "machine_state": "failed",
                "status": "failed",
            },
        ],
    },
}


def _legacy_project(root: Path) -> Path:
    animus = root / ".animus"
    (animus / "state" / "workflows").mkdir(parents=True)
    (animus / "config.json").write_text('{"authored": true}')
    (animus / "workflows.yaml").write_text("workflows: []\n")
    (animus / "core-state.json").write_text('{"tasks": {"TASK-001": {}}}')
    (animus / "state" / "history.json").write_text("[]")
    (animus / "state" / "state-machines.v1.json").write_text('{"machines": 1}')
    (animus / "state" / "workflows" / "wf-legacy-1.json").write_text(json.dumps(WORKFLOW))
    (animus / "state" / "workflows" / "broken.json").write_text("{nope")
    (animus / "state" / "workflows" / "list.json").write_text("[1, 2]")
    conn = sqlite3.connect(animus / "workflow.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE legacy(x)")
    conn.execute("INSERT INTO legacy VALUES (42)")
    conn.commit()
    conn.close()
    return root


def test_full_migration_moves_imports_and_is_idempotent(tmp_path: Path, home: Path) -> None:
    project = _legacy_project(tmp_path / "proj")
    project_scope = ensure_scope_root(project)
    # Let the legacy db live in the scope's place without clashing with the real one.
    (project / ".animus" / "workflow.db").rename(tmp_path / "legacy.db")

    report = migrate_all(project)
    scope = project_scope
    assert read_json(scope.core_state) == {"tasks": {"TASK-001": {}}}
    assert (scope.state_dir / "history.json").read_text() == "[]"
    assert read_json(scope.state_machines) == {"machines": 1}
    assert not (scope.state_dir / "state-machines.v1.json").exists()
    # Authored config stays in the project.
    assert (project / ".animus" / "config.json").exists()
    assert (project / ".animus" / "workflows.yaml").exists()
    assert not (project / ".animus" / "core-state.json").exists()
    assert not (project / ".animus" / "state").exists()

    assert report.imported == ["wf-legacy-1"]
    kept = {p.name: why for p, why in report.kept}
    assert "not readable JSON" in kept["broken.json"]
    assert "no string 'id'" in kept["list.json"]
    assert (scope.state_dir / "workflows" / "broken.json").read_text() == "{nope"

    with Database(scope.workflow_db) as db, db.read() as conn:
        row = conn.execute("SELECT * FROM workflows").fetchone()
        assert (row["id"], row["status"], row["task_id"], row["subject_key"]) == (
            "wf-legacy-1",
            "failed",
            "TASK-007",
            "TASK-007",
        )
        assert row["phase_id"] == "review"
        assert row["failure_reason"] == "review rejected"
        assert json.loads(row["json"]) == WORKFLOW
        numbers = [r[0] for r in conn.execute("SELECT number FROM checkpoints ORDER BY number")]
        assert numbers == [1, 2]

    again = migrate_all(project)
    assert not again.changed
    assert any("already in the database" in why for _, why in again.kept)


def test_legacy_database_is_checkpointed_and_moved(tmp_path: Path, home: Path) -> None:
    project = _legacy_project(tmp_path / "proj")
    scope = ensure_scope_root(project)
    report = migrate_repo_local_state(project, scope)
    assert (project / ".animus" / "workflow.db", scope.workflow_db) in report.moved
    conn = sqlite3.connect(scope.workflow_db)
    assert conn.execute("SELECT x FROM legacy").fetchone()[0] == 42
    conn.close()
    assert not (project / ".animus" / "workflow.db").exists()


def test_conflicts_keep_both_copies(tmp_path: Path, home: Path) -> None:
    project = _legacy_project(tmp_path / "proj")
    scope = ensure_scope_root(project)
    scope.core_state.write_text('{"newer": true}')
    (scope.state_dir).mkdir()
    (scope.state_dir / "history.json").write_text("[]")  # identical: legacy copy folds in
    (scope.config_dir).mkdir()
    scope.state_machines.write_text('{"machines": 2}')
    Database(scope.workflow_db).close()

    report = migrate_repo_local_state(project, scope)
    report.extend(migrate_state_machines(scope))
    kept = {str(p): why for p, why in report.kept}
    assert read_json(scope.core_state) == {"newer": True}
    assert read_json(project / ".animus" / "core-state.json") == {"tasks": {"TASK-001": {}}}
    assert "already exists" in kept[str(project / ".animus" / "core-state.json")]
    assert (project / ".animus" / "workflow.db").exists()
    assert "merge by hand" in kept[str(project / ".animus" / "workflow.db")]
    assert read_json(scope.state_machines) == {"machines": 2}
    assert read_json(scope.state_dir / "state-machines.v1.json") == {"machines": 1}
    assert not (project / ".animus" / "state" / "history.json").exists()


def test_nothing_to_migrate_is_a_no_op(tmp_path: Path, home: Path) -> None:
    project = tmp_path / "fresh"
    project.mkdir()
    report = migrate_all(project)
    assert not report.changed
    assert report.kept == []
    with Database(tmp_path / "w.db") as db:
        assert not import_legacy_workflows(db, tmp_path / "missing-dir").changed
