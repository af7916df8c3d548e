from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from animus_core.hub import ServiceHub
from animus_protocol.envelope import InvalidInputError, NotFoundError


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ServiceHub]:
    project = tmp_path / "project"
    project.mkdir()
    with ServiceHub(project, env={"ANIMUS_HOME": str(tmp_path / "home")}) as h:
        yield h


def test_record_list_get_stats_resolve_cleanup(hub: ServiceHub) -> None:
    a = hub.errors.record("dispatch", "runner did not start", task_id="TASK-1", details={"rc": 1})
    hub.errors.record("runner", "phase timed out", severity="WARNING", workflow_id="wf-1")
    hub.errors.record("runner", "merge failed", severity="critical", workflow_id="wf-2")
    assert hub.errors.get(a.id).details == {"rc": 1}
    assert hub.errors.list().total == 3
    assert [e.message for e in hub.errors.list(category="runner").errors] == [
        "merge failed",
        "phase timed out",
    ]
    assert hub.errors.list(severity="warning").total == 1
    assert hub.errors.list(task_id="TASK-1").total == 1
    stats = hub.errors.stats()
    assert stats.total == 3
    assert stats.by_category == {"dispatch": 1, "runner": 2}
    assert stats.by_severity["critical"] == 1
    assert hub.errors.resolve(a.id).resolved_at
    assert hub.errors.stats().unresolved == 2
    assert hub.errors.list(unresolved_only=True).total == 2
    assert hub.errors.cleanup(30).count == 0
    assert hub.errors.cleanup(0, dry_run=True).count == 3
    with pytest.raises(NotFoundError):
        hub.errors.get(12345)
    with pytest.raises(NotFoundError):
        hub.errors.resolve(12345)
    with pytest.raises(InvalidInputError, match="severity"):
        hub.errors.record("x", "y", severity="apocalyptic")
    with pytest.raises(InvalidInputError, match="category"):
        hub.errors.record(" ", "y")
