from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from animus_cli.testing import Invoke


def test_subject_family_on_tasks(cli: Invoke) -> None:
    made = cli(
        "subject",
        "create",
        "--kind",
        "task",
        "--title",
        "Fix",
        "--priority",
        "1",
        "--label",
        "x",
        "--status",
        "ready",
    )
    assert made.out == "created TASK-001 [ready]\n"
    other = cli(
        "subject",
        "create",
        "--title",
        "Hold",
        "--status",
        "on-hold",
        "--priority",
        "low",
        json_output=True,
    ).data  # default kind from .animus/config.json
    assert other["kind"] == "animus.task"
    assert other["status"] == "blocked"
    assert other["native_status"] == "on-hold"
    assert other["custom"]["priority"] == "low"
    table = cli("subject", "list").out.splitlines()
    assert table[0].split() == ["ID", "STATUS", "NATIVE", "PRIORITY", "LABELS", "TITLE"]
    assert table[1].split()[:4] == ["TASK-001", "ready", "ready", "critical"]
    page = cli(
        "subject", "list", "--kind", "animus.task", "--status", "on_hold", json_output=True
    ).data
    assert page["total"] == 1
    assert page["items"][0]["id"] == "TASK-002"
    assert set(page) == {"items", "total", "limit", "offset"}
    got = cli("subject", "get", "--id", "TASK-001", json_output=True).data
    assert got["labels"] == ["x"]
    assert got["priority"] == 1
    assert "kind             animus.task" in cli("subject", "get", "TASK-001").out
    updated = cli(
        "subject",
        "update",
        "TASK-001",
        "--label-add",
        "y",
        "--label-remove",
        "x",
        "--assignee",
        "bob",
        "--title",
        "Fix now",
        json_output=True,
    ).data
    assert (updated["labels"], updated["assignee"], updated["title"]) == (["y"], "bob", "Fix now")
    moved = cli("subject", "status", "--id", "TASK-001", "in-progress")
    assert moved.out == "TASK-001: ready -> in-progress\n"
    unstuck = cli("subject", "status", "TASK-002", "--status", "ready")
    assert "note: TASK-002 is unstuck: on-hold -> ready" in unstuck.err
    assert cli("subject", "next", json_output=True).data["id"] == "TASK-002"
    refused = cli("subject", "status", "TASK-002", "done", json_output=True).error
    assert refused["code"] == "conflict"
    assert refused["exit_code"] == 4
    dry = cli("subject", "delete", "TASK-002")
    assert dry.out.startswith("would delete animus.task TASK-002: Hold")
    assert (
        cli("subject", "delete", "--id", "TASK-002", "--yes", json_output=True).data["deleted"]
        == "TASK-002"
    )
    assert cli("subject", "get", "TASK-002").code == 3


def test_subject_family_on_requirements(cli: Invoke) -> None:
    made = cli(
        "subject",
        "create",
        "--kind",
        "requirement",
        "--title",
        "Search",
        "--priority",
        "must",
        json_output=True,
    ).data
    assert made["id"] == "REQ-001"
    assert made["native_status"] == "draft"
    assert made["status"] == "ready"
    assert (
        cli("subject", "list", "--kind", "requirement", "--status", "ready", json_output=True).data[
            "total"
        ]
        == 1
    )
    assert cli("subject", "update", "REQ-001", "--kind", "requirement", "--comment", "hi").code == 0
    dropped = cli("subject", "status", "REQ-001", "cancelled", "--kind", "requirement")
    assert dropped.out == "REQ-001: draft -> deprecated\n"
    assert cli("subject", "next", "--kind", "requirement").out == "nothing ready\n"


def test_kinds_and_schema(cli: Invoke) -> None:
    kinds = cli("subject", "kinds", json_output=True).data
    assert kinds == {"kinds": ["animus.requirement", "animus.task"], "default": "task"}
    assert cli("subject", "kinds").out.splitlines() == [
        "animus.requirement",
        "animus.task  (default)",
    ]
    schema = cli("subject", "schema", "--kind", "requirement", json_output=True).data
    assert schema["kinds"] == ["animus.requirement"]
    assert "needs-rework" in schema["native_status_values"]
    hints = {h["native_status"]: h["maps_to"] for h in schema["status_dispatch_hints"]}
    assert hints["po-review"] == "in-progress"
    human = cli("subject", "schema").out
    assert "on-hold        -> blocked" in human


def test_subject_errors_name_the_fix(cli: Invoke) -> None:
    unknown = cli("subject", "list", "--kind", "jira.issue", json_output=True).error
    assert unknown["code"] == "invalid_input"
    assert unknown["details"]["known_kinds"] == ["task", "requirement"]
    assert "--kind" in unknown["details"]["hint"]
    no_id = cli("subject", "get")
    assert no_id.code == 2
    assert "hint: pass the id" in no_id.err
    both = cli("subject", "get", "TASK-001", "--id", "TASK-002")
    assert both.code == 2
    assert cli("subject", "status", "TASK-001").code == 2
    assert cli("subject", "update", "TASK-001").code == 2
    bad_patch = cli("subject", "create", "--title", "t", json_output=True)
    assert bad_patch.code == 0
    wrong_status = cli("subject", "update", "TASK-001", "--status", "backlog", json_output=True)
    assert wrong_status.error["code"] == "invalid_input"
    assert cli("subject", "create", "--title", "x", "--priority", "9").code == 2
    assert cli("subject", "list", "--limit", "-1").code == 2


def _subprocess(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANIMUS_HOME": str(home)}
    env.pop("ANIMUS_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "animus_cli", "--project-root", str(project), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_real_processes_cover_each_family_and_error_class(tmp_path: Path) -> None:
    project, home = tmp_path / "p", tmp_path / "home"
    project.mkdir()
    made = _subprocess(project, home, "--json", "task", "create", "--title", "A")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["data"]["id"] == "TASK-001"
    listed = _subprocess(project, home, "subject", "list")
    assert listed.returncode == 0
    assert "TASK-001" in listed.stdout
    assert "ID" in listed.stdout.splitlines()[0]
    req = _subprocess(project, home, "requirement", "create", "--title", "R")
    assert req.stdout == "created REQ-001 [draft] R\n"
    mat = _subprocess(project, home, "--json", "requirement", "materialize")
    assert json.loads(mat.stdout)["data"]["task_ids_created"] == ["TASK-002"]

    missing = _subprocess(project, home, "--json", "subject", "get", "TASK-404")
    assert missing.returncode == 3
    assert missing.stdout == ""
    env = json.loads(missing.stderr)
    assert env["error"]["code"] == "not_found"
    assert "animus task list" in env["error"]["details"]["hint"]
    conflict = _subprocess(project, home, "task", "status", "TASK-001", "done")
    assert conflict.returncode == 4
    assert "hint: pass --force" in conflict.stderr
    assert "Traceback" not in conflict.stderr
    bad = _subprocess(project, home, "--json", "task", "list", "--priority", "asap")
    assert bad.returncode == 2
    assert json.loads(bad.stderr)["error"]["code"] == "invalid_input"
    parse = _subprocess(project, home, "--json", "requirement", "list", "--bogus")
    assert parse.returncode == 2
    assert json.loads(parse.stderr)["error"]["details"]["stage"] == "parse"
