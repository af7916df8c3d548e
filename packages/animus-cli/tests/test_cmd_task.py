from __future__ import annotations

from animus_cli.testing import Invoke


def test_create_list_get_human_and_json(cli: Invoke) -> None:
    created = cli("task", "create", "--title", "Write parser", "--tag", "a,b", "--priority", "high")
    assert created.code == 0
    assert created.out == "created TASK-001 [backlog] Write parser\n"
    data = cli("task", "create", "--title", "Docs", "--type", "docs", json_output=True).data
    assert data["id"] == "TASK-002"
    assert data["type"] == "docs"
    assert data["status"] == "backlog"

    table = cli("task", "list")
    lines = table.out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "PRIORITY", "TYPE", "ASSIGNEE", "TITLE"]
    assert lines[1].startswith("TASK-001")  # high before medium
    page = cli("task", "list", "--limit", "1", "--offset", "1", json_output=True).data
    assert page["total"] == 2
    assert (page["limit"], page["offset"]) == (1, 1)
    assert [t["id"] for t in page["items"]] == ["TASK-002"]
    paged = cli("task", "list", "--limit", "1")
    assert "1-1 of 2 tasks (more with --offset 1)" in paged.out
    assert cli("task", "list", "--tag", "a", "--tag", "b", json_output=True).data["total"] == 1
    assert cli("task", "list", "--type", "DOCS", json_output=True).data["total"] == 1
    assert cli("task", "list", "--search", "parser", json_output=True).data["total"] == 1
    assert cli("task", "list", "--status", "todo,ready", json_output=True).data["total"] == 2
    assert cli("task", "list", "--sort", "id", json_output=True).data["items"][0]["id"] == (
        "TASK-001"
    )

    shown = cli("task", "get", "task-1")
    assert "title     Write parser" in shown.out
    assert "tags      a, b" in shown.out
    assert cli("task", "get", "TASK-001", json_output=True).data["tags"] == ["a", "b"]
    assert cli("task", "list", "--status", "done").out == "(no tasks)\n"


def test_status_transitions_conflict_and_force(cli: Invoke) -> None:
    cli("task", "create", "--title", "t")
    refused = cli("task", "status", "TASK-001", "done")
    assert refused.code == 4
    assert "error: cannot move a task from backlog to done" in refused.err
    assert "hint: pass --force" in refused.err
    err = cli("task", "status", "TASK-001", "done", json_output=True).error
    assert err["code"] == "conflict"
    assert err["details"]["allowed"] == ["on-hold", "ready"]
    assert "--force" in err["details"]["hint"]
    moved = cli("task", "status", "TASK-001", "Ready")
    assert moved.out == "TASK-001: backlog -> ready\n"
    forced = cli("task", "status", "TASK-001", "completed", "--force", json_output=True).data
    assert forced["status"] == "done"
    reopened = cli("task", "reopen", "TASK-001", json_output=True).data
    assert reopened["status"] == "backlog"
    assert cli("task", "reopen", "TASK-001").code == 4


def test_not_found_and_invalid_input_errors(cli: Invoke) -> None:
    missing = cli("task", "get", "TASK-404")
    assert missing.code == 3
    assert "hint: list existing tasks with: animus task list" in missing.err
    err = cli("task", "status", "TASK-404", "ready", json_output=True).error
    assert err["code"] == "not_found"
    assert err["exit_code"] == 3
    bad_status = cli("task", "list", "--status", "sideways", json_output=True).error
    assert bad_status["code"] == "invalid_input"
    assert "backlog" in bad_status["details"]["hint"]
    bad_limit = cli("task", "list", "--limit", "many", json_output=True).error
    assert bad_limit["details"]["stage"] == "parse"
    bad_priority = cli("task", "create", "--title", "x", "--priority", "asap")
    assert bad_priority.code == 2
    assert "hint: use one of: critical, high, medium, low" in bad_priority.err
    no_title = cli("task", "create")
    assert no_title.code == 2
    assert "--title" in no_title.err
    nothing = cli("task", "update", "TASK-404")
    assert nothing.code == 2
    assert "nothing to update" in nothing.err


def test_dependencies_next_and_cycles(cli: Invoke) -> None:
    for title in ("a", "b", "c"):
        cli("task", "create", "--title", title, "--status", "ready")
    added = cli("task", "dependency", "add", "TASK-002", "task-1")
    assert added.out == "TASK-002 blocked-by TASK-001\n"
    assert "note: TASK-002 waits for TASK-001" in added.err
    cli("task", "dependency", "add", "TASK-003", "TASK-002")
    cycle = cli("task", "dependency", "add", "TASK-001", "TASK-003", json_output=True).error
    assert cycle["code"] == "conflict"
    assert cycle["details"]["cycle"] == ["TASK-001", "TASK-003", "TASK-002", "TASK-001"]
    assert cli("task", "dependency", "add", "TASK-001", "TASK-001").code == 2
    assert cli("task", "dependency", "add", "TASK-001", "TASK-404").code == 3
    assert cli("task", "next", json_output=True).data["id"] == "TASK-001"
    started = cli("task", "status", "TASK-002", "in-progress")
    assert started.code == 4
    assert "waits for TASK-001" in started.err
    removed = cli("task", "dependency", "remove", "TASK-002", "TASK-001", json_output=True).data
    assert removed["dependencies"] == []
    assert cli("task", "dependency", "remove", "TASK-002", "TASK-001").code == 3
    assert "id        TASK-001" in cli("task", "next").out


def test_task_only_verbs(cli: Invoke) -> None:
    cli("task", "create", "--title", "t", "--status", "ready")
    assert cli("task", "pause", "TASK-001").out == "TASK-001 paused [on-hold]\n"
    assert cli("task", "next").out == "no ready task\n"
    assert cli("task", "next", json_output=True).data is None
    resumed = cli("task", "resume", "TASK-001")
    assert "note: TASK-001 is unstuck: on-hold -> ready" in resumed.err
    blocked = cli("task", "block", "TASK-001", "--reason", "needs api key", json_output=True).data
    assert blocked["status"] == "blocked"
    assert blocked["blocked_reason"] == "needs api key"
    assert cli("task", "block", "TASK-001").code == 2  # --reason is required
    item = cli("task", "checklist", "add", "TASK-001", "write tests", json_output=True).data
    assert item["checklist"][0]["id"] == "item-1"
    ticked = cli("task", "checklist", "update", "TASK-001", "item-1", "--completed")
    assert ticked.code == 0
    assert "[x] item-1" in cli("task", "get", "TASK-001").out
    assert cli("task", "checklist", "update", "TASK-001", "item-1").code == 2
    assert cli("task", "checklist", "update", "TASK-001", "item-7", "--completed").code == 3
    agent = cli("task", "assign", "TASK-001", "reviewer", "--type", "agent", "--model", "m")
    assert agent.out == "TASK-001 assigned to agent:reviewer\n"
    assert cli("task", "list", "--assignee", "agent:reviewer", json_output=True).data["total"] == 1
    assert cli("task", "assign", "TASK-001", "unassigned").out == "TASK-001 assigned to nobody\n"
    assert cli("task", "set-priority", "TASK-001", "URGENT").out == "TASK-001 priority critical\n"
    dated = cli("task", "set-deadline", "TASK-001", "2031-02-03", json_output=True).data
    assert dated["deadline"] == "2031-02-03T23:59:59.000000Z"
    assert cli("task", "set-deadline", "TASK-001", "soon").code == 2
    updated = cli(
        "task",
        "update",
        "TASK-001",
        "--title",
        "new",
        "--add-tag",
        "x",
        "--risk",
        "high",
        json_output=True,
    ).data
    assert (updated["title"], updated["tags"], updated["risk"]) == ("new", ["x"], "high")
    assert (
        cli("task", "update", "TASK-001", "--remove-tag", "x", json_output=True).data["tags"] == []
    )
    stats = cli("task", "stats", json_output=True).data
    assert stats["total"] == 1
    assert stats["by_status"]["blocked"] == 1


def test_delete_is_a_dry_run_without_yes(cli: Invoke) -> None:
    cli("task", "create", "--title", "a")
    cli("task", "create", "--title", "b")
    cli("task", "dependency", "add", "TASK-002", "TASK-001")
    dry = cli("task", "delete", "TASK-001")
    assert dry.out.splitlines() == [
        "would delete TASK-001: a",
        "  dependents: TASK-002",
        "dry run: nothing changed; pass --yes to do it",
    ]
    data = cli("task", "delete", "TASK-001", json_output=True).data
    assert data == {
        "dry_run": True,
        "action": "delete",
        "target": "TASK-001",
        "dependents": ["TASK-002"],
    }
    assert cli("task", "get", "TASK-001").code == 0
    done = cli("task", "delete", "TASK-001", "--yes")
    assert done.out == "deleted TASK-001: a\n"
    assert cli("task", "get", "TASK-001").code == 3
    assert cli("task", "delete", "TASK-001", "--yes").code == 3
    assert cli("task", "get", "TASK-002", json_output=True).data["dependencies"] == []
