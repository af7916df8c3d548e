from __future__ import annotations

from animus_cli.testing import Invoke


def test_requirement_crud_human_and_json(cli: Invoke) -> None:
    made = cli(
        "requirement",
        "create",
        "--title",
        "Login",
        "--priority",
        "must",
        "--criterion",
        "user logs in",
        "--criterion",
        "bad password is refused",
        "--tag",
        "auth",
        "--category",
        "security",
    )
    assert made.out == "created REQ-001 [draft] Login\n"
    data = cli("requirement", "create", "--title", "Export", "--type", "nfr", json_output=True).data
    assert data["id"] == "REQ-002"
    assert data["type"] == "non-functional"
    assert data["priority"] == "should"
    table = cli("requirement", "list").out.splitlines()
    assert table[0].split() == ["ID", "STATUS", "PRIORITY", "TYPE", "TASKS", "TITLE"]
    assert table[1].startswith("REQ-001")
    assert cli("requirement", "list", "--priority", "must", json_output=True).data["total"] == 1
    assert cli("requirement", "list", "--category", "security", json_output=True).data["total"] == 1
    shown = cli("requirement", "get", "req-1").out
    assert "criterion 1    user logs in" in shown
    updated = cli("requirement", "update", "REQ-001", "--title", "Sign in", json_output=True).data
    assert updated["title"] == "Sign in"
    assert cli("requirement", "update", "REQ-001").code == 2
    commented = cli("requirement", "comment", "REQ-001", "ok by me", "--author", "po").out
    assert commented == "REQ-001: comment added (1 in all)\n"
    assert cli("requirement", "get", "REQ-404").code == 3
    err = cli("requirement", "get", "REQ-404", json_output=True).error
    assert err["code"] == "not_found"
    assert "animus requirement list" in err["details"]["hint"]
    assert cli("requirement", "create", "--title", "x", "--priority", "someday").code == 2


def test_lifecycle_events_and_status(cli: Invoke) -> None:
    cli("requirement", "create", "--title", "r")
    wrong = cli("requirement", "transition", "REQ-001", "PoPass")
    assert wrong.code == 4
    assert "hint: apply one of: refine" in wrong.err
    assert cli("requirement", "refine", "REQ-001").out == "REQ-001: draft -> refined\n"
    assert cli("requirement", "transition", "REQ-001", "submit_review").code == 0
    failed = cli("requirement", "transition", "REQ-001", "po-fail", json_output=True).data
    assert failed["status"] == "needs-rework"
    assert failed["rework_count"] == 1
    back = cli("requirement", "transition", "REQ-001", "refine")
    assert "note: REQ-001 is unstuck: needs-rework -> refined" in back.err
    assert cli("requirement", "transition", "REQ-001", "explode").code == 2
    refused = cli("requirement", "status", "REQ-001", "done", json_output=True).error
    assert refused["code"] == "conflict"
    assert "--force" in refused["details"]["hint"]
    forced = cli("requirement", "status", "REQ-001", "approved", "--force").out
    assert forced == "REQ-001: refined -> approved\n"


def test_materialize_and_delete(cli: Invoke) -> None:
    cli("requirement", "create", "--title", "A", "--priority", "must", "--criterion", "c1")
    cli("requirement", "create", "--title", "B", "--priority", "wont")
    first = cli("requirement", "materialize")
    assert first.out.splitlines() == [
        "requirements considered: 1",
        "tasks created: TASK-001",
        "tasks reused: none",
    ]
    again = cli("requirement", "materialize", "--include-wont", json_output=True).data
    assert again["task_ids_reused"] == ["TASK-001"]
    assert again["task_ids_created"] == ["TASK-002"]
    task = cli("task", "get", "TASK-001", json_output=True).data
    assert task["linked_requirements"] == ["REQ-001"]
    assert task["checklist"][0]["description"] == "c1"
    assert cli("requirement", "materialize", "REQ-404").code == 3
    dry = cli("requirement", "delete", "REQ-001", json_output=True).data
    assert dry == {
        "dry_run": True,
        "action": "delete",
        "target": "REQ-001",
        "linked_tasks": ["TASK-001"],
    }
    assert cli("requirement", "get", "REQ-001").code == 0
    assert cli("requirement", "delete", "REQ-001", "--yes").out == "deleted REQ-001: A\n"
    assert cli("requirement", "get", "REQ-001").code == 3
    assert cli("task", "get", "TASK-001", json_output=True).data["linked_requirements"] == []
