from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from animus_core.hub import ServiceHub
from animus_core.subjects import SubjectBackend, SubjectPage, SubjectQuery, SubjectRouter
from animus_plugin_protocol import (
    Subject,
    SubjectCreateParams,
    SubjectFilter,
    SubjectPatch,
    SubjectSchema,
    SubjectStatus,
)
from animus_protocol.envelope import ConflictError, InvalidInputError, NotFoundError


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[ServiceHub]:
    project = tmp_path / "project"
    project.mkdir()
    with ServiceHub(project, env={"ANIMUS_HOME": str(tmp_path / "home")}) as h:
        yield h


@pytest.fixture
def router(hub: ServiceHub) -> SubjectRouter:
    return hub.subjects


def _history(hub: ServiceHub, subject_id: str, event_type: str) -> list[dict[str, object]]:
    with hub.db.read() as conn:
        rows = conn.execute(
            "SELECT json FROM history WHERE subject_key = ? AND event_type = ?",
            (subject_id, event_type),
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


class _FakeBackend:
    """A stand-in plugin backend: only its identity matters for routing."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def schema(self) -> SubjectSchema:
        return SubjectSchema(kinds=[self.kind])

    def list(self, query: SubjectQuery) -> SubjectPage:
        return SubjectPage(items=[], total=0, limit=query.limit, offset=query.offset)

    def get(self, subject_id: str) -> Subject:
        raise NotFoundError(subject_id)

    def create(self, params: SubjectCreateParams) -> Subject:
        raise NotImplementedError

    def update(self, subject_id: str, patch: SubjectPatch) -> Subject:
        raise NotImplementedError

    def set_status(self, subject_id: str, status: str, force: bool = False) -> Subject:
        raise NotImplementedError

    def next(self) -> Subject | None:
        return None

    def delete(self, subject_id: str) -> Subject:
        raise NotImplementedError


def test_builtin_kinds_and_aliases(router: SubjectRouter) -> None:
    task_backend = router.backend("task")
    assert router.backend("animus.task") is task_backend
    assert router.backend("TASK") is task_backend
    assert router.backend("requirement") is router.backend("animus.requirement")
    assert isinstance(task_backend, SubjectBackend)
    with pytest.raises(InvalidInputError) as info:
        router.backend("jira.issue")
    assert info.value.details["known_kinds"] == ["task", "requirement"]
    assert "--kind" in (info.value.hint or "")


def test_register_exact_beats_glob_and_longest_prefix_wins(router: SubjectRouter) -> None:
    broad = _FakeBackend("linear.*")
    narrow = _FakeBackend("linear.eng.*")
    exact = _FakeBackend("linear.issue")
    router.register("linear.*", broad)
    router.register("linear.eng.*", narrow)
    router.register("linear.issue", exact)
    assert router.backend("linear.issue") is exact
    assert router.backend("linear.project") is broad
    assert router.backend("linear.eng.bug") is narrow
    with pytest.raises(InvalidInputError):
        router.backend("linear")  # a glob needs something after the prefix
    with pytest.raises(ConflictError, match="already claimed"):
        router.register("linear.*", _FakeBackend("again"))
    with pytest.raises(ConflictError):
        router.register("task", _FakeBackend("dup"))
    for bad in ("", "*", ".*", "a*b", "lin*.*"):
        with pytest.raises(InvalidInputError):
            router.register(bad, _FakeBackend(bad))
    assert router.kinds() == [
        "animus.requirement",
        "animus.task",
        "linear.issue",
        "linear.*",
        "linear.eng.*",
    ]
    router.unregister("linear.issue")
    assert router.backend("linear.issue") is broad


def test_kind_resolution_flag_then_config_then_error(
    hub: ServiceHub, router: SubjectRouter
) -> None:
    hub.ensure_ready()
    config = hub.project_paths.config_json
    data = json.loads(config.read_text())
    assert router.resolve_kind(None) == "animus.task"  # the bootstrap default
    assert router.resolve_kind("requirement") == "animus.requirement"
    data["default_subject_kind"] = "requirement"
    config.write_text(json.dumps(data))
    assert router.resolve_kind(None) == "animus.requirement"
    del data["default_subject_kind"]
    config.write_text(json.dumps(data))
    with pytest.raises(InvalidInputError, match="no subject kind") as info:
        router.resolve_kind("")
    assert "--kind" in (info.value.hint or "")
    data["default_subject_kind"] = "nope.kind"
    config.write_text(json.dumps(data))
    with pytest.raises(InvalidInputError, match="unknown subject kind"):
        router.resolve_kind(None)
    config.write_text("{broken")
    with pytest.raises(InvalidInputError, match=r"config\.json"):
        router.resolve_kind(None)


def test_task_backend_round_trip(hub: ServiceHub, router: SubjectRouter) -> None:
    backend = router.backend("task")
    created = backend.create(
        SubjectCreateParams(
            title="Fix it",
            body="details",
            priority=2,
            labels=["a"],
            custom={"type": "bug"},
        )
    )
    assert created.id == "TASK-001"
    assert created.kind == "animus.task"
    assert created.status is SubjectStatus.READY
    assert created.native_status == "backlog"
    assert created.priority == 2
    assert created.custom["priority"] == "high"
    assert created.custom["type"] == "bugfix"
    assert created.description == "details"
    wire = created.to_wire()
    assert wire["created_at"].endswith("Z")
    updated = backend.update(
        created.id,
        SubjectPatch(
            labels_add=["b"],
            labels_remove=["a"],
            assignee="alice",
            custom={"title": "Fix it now"},
            status=SubjectStatus.READY,
        ),
    )
    assert updated.labels == ["b"]
    assert updated.assignee == "alice"
    assert updated.title == "Fix it now"
    assert updated.native_status == "ready"
    backend.update(created.id, SubjectPatch(comment="looked at it"))
    assert any(r["message"] == "looked at it" for r in _history(hub, created.id, "task.commented"))
    cleared = backend.update(created.id, SubjectPatch.model_validate({"assignee": None}))
    assert cleared.assignee is None
    with pytest.raises(ConflictError):
        backend.set_status(created.id, "done")
    assert backend.set_status(created.id, "done", force=True).status is SubjectStatus.DONE
    on_hold = backend.create(SubjectCreateParams(title="held", custom={"status": "on-hold"}))
    assert on_hold.status is SubjectStatus.BLOCKED
    assert backend.next() is None
    ready = backend.create(SubjectCreateParams(title="r", status=SubjectStatus.READY))
    nxt = backend.next()
    assert nxt is not None
    assert nxt.id == ready.id
    # native statuses win: "blocked" is a task status, so on-hold tasks are not included
    assert backend.list(SubjectQuery(status=("blocked",))).total == 0
    page = backend.list(SubjectQuery(status=("on_hold",)))
    assert [s.id for s in page.items] == [on_hold.id]
    assert backend.list(SubjectQuery(labels=("b",))).total == 1
    assert backend.list(SubjectQuery(limit=1)).total == 3
    with pytest.raises(InvalidInputError, match="unknown status"):
        backend.list(SubjectQuery(status=("sideways",)))
    with pytest.raises(InvalidInputError, match="out of range"):
        backend.create(SubjectCreateParams(title="x", priority=9))
    deleted = backend.delete(ready.id)
    assert deleted.id == ready.id
    with pytest.raises(NotFoundError):
        backend.get(ready.id)
    assert backend.schema().native_status_values[0] == "backlog"


def test_requirement_backend_round_trip(hub: ServiceHub, router: SubjectRouter) -> None:
    backend = router.backend("requirement")
    created = backend.create(
        SubjectCreateParams(
            title="Search",
            priority=1,
            labels=["ux"],
            custom={"acceptance_criteria": ["finds things"], "category": "core"},
        )
    )
    assert created.id == "REQ-001"
    assert created.custom["priority"] == "must"
    assert created.native_status == "draft"
    assert created.status is SubjectStatus.READY
    reviewed = backend.update(
        created.id, SubjectPatch(comment="please refine", custom={"description": "d"})
    )
    assert reviewed.description == "d"
    assert hub.requirements.get(created.id).comments[0].content == "please refine"
    with pytest.raises(InvalidInputError, match="no assignee"):
        backend.update(created.id, SubjectPatch(assignee="bob"))
    assert backend.set_status(created.id, "cancelled").native_status == "deprecated"
    assert backend.set_status(created.id, "draft").native_status == "draft"
    with pytest.raises(ConflictError):
        backend.set_status(created.id, "done")
    with pytest.raises(InvalidInputError):
        backend.set_status(created.id, "sideways")
    second = backend.create(SubjectCreateParams(title="Later", priority=3))
    hub.requirements.set_status(second.id, "approved", force=True)
    nxt = backend.next()
    assert nxt is not None
    assert nxt.id == second.id  # approved beats draft
    in_ready = backend.list(SubjectQuery(status=("ready",)))
    assert in_ready.total == 2
    assert backend.list(SubjectQuery(status=("approved",))).total == 1
    with pytest.raises(InvalidInputError, match="assignee"):
        backend.list(SubjectQuery(assignee="x"))
    hub.requirements.materialize([second.id])
    assert backend.get(second.id).children == ["TASK-001"]
    assert backend.delete(created.id).id == created.id


def test_query_from_wire_filter() -> None:
    flt = SubjectFilter.model_validate(
        {"filter": {"status": ["ready"], "labels_all": ["a"], "assignee": ["bob"], "limit": 5}}
    )
    q = SubjectQuery.from_filter(flt, offset=10)
    assert q == SubjectQuery(status=("ready",), labels=("a",), assignee="bob", limit=5, offset=10)
    assert SubjectQuery.from_filter(SubjectFilter(native_status="backlog")).status == ("backlog",)
