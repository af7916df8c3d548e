from __future__ import annotations

from pathlib import Path

from animus_cli.testing import Invoke


def _task(animus: Invoke, project: Path, title: str = "t") -> str:
    from animus_core.hub import ServiceHub

    with ServiceHub(project) as hub:
        return hub.tasks.create(title=title, status="ready").id


def test_enqueue_list_stats_human_and_json(animus: Invoke, project: Path) -> None:
    tid = _task(animus, project)
    r = animus("queue", "enqueue", "--task-id", tid, "--priority", "high", "--var", "a=1")
    assert r.code == 0, r.err
    assert f"queued {tid} as QE-000001" in r.out
    r = animus("--json", "queue", "list")
    entry = r.data["entries"][0]
    assert (entry["subject_key"], entry["priority"], entry["status"]) == (tid, "high", "pending")
    assert entry["dispatch"]["vars"] == {"a": "1"}
    r = animus("queue", "list")
    assert "QE-000001" in r.out
    assert "ENTRY_ID" in r.out
    r = animus("--json", "queue", "stats")
    assert r.data["pending"] == 1
    assert r.data["total"] == 1
    assert "pending" in animus("queue", "stats").out
    r = animus(
        "--json",
        "queue",
        "enqueue",
        "--subject",
        "custom:ci-1",
        "--workflow-ref",
        "standard",
        "--input-json",
        '{"pr": 5}',
    )
    assert r.data["dispatch"]["input"] == {"pr": 5}
    r = animus("--json", "queue", "enqueue", "--title", "Audit deps", "--description", "weekly")
    assert r.data["subject_key"] == "Audit deps"
    assert r.data["dispatch"]["subject"]["Custom"]["description"] == "weekly"
    assert animus("queue", "enqueue", "--title", "Audit deps").code == 4


def test_enqueue_errors_have_codes_and_hints(animus: Invoke, project: Path) -> None:
    tid = _task(animus, project)
    r = animus("--json", "queue", "enqueue", "--task-id", "TASK-404")
    assert (r.code, r.error["code"]) == (3, "not_found")
    assert "hint" in r.error["details"]
    assert animus("queue", "enqueue", "--task-id", tid).code == 0
    r = animus("queue", "enqueue", "--task-id", tid)
    assert r.code == 4
    assert "already queued" in r.err
    assert "hint:" in r.err
    r = animus("--json", "queue", "enqueue", "--task-id", tid, "--subject", "task:x")
    assert (r.code, r.error["code"]) == (2, "invalid_input")
    for bad in (
        ["--subject", "nocolon"],
        ["--subject", "custom:x", "--var", "novalue"],
        ["--subject", "custom:x", "--input-json", "{oops"],
        ["--subject", "custom:x", "--priority", "whenever"],
    ):
        r = animus("--json", "queue", "enqueue", *bad)
        assert (r.code, r.error["code"]) == (2, "invalid_input"), bad
        assert r.error["details"]["hint"]
    r = animus("--json", "queue", "list", "--limit", "zero")
    assert r.code == 2
    assert r.error["details"]["stage"] == "parse"
    assert animus("queue", "list", "--status", "bogus").code == 2
    r = animus("--json", "queue", "enqueue", "--subject", "custom:y", "--workflow-ref", "nope")
    assert (r.code, r.error["code"]) == (2, "invalid_input")
    assert "standard" in r.error["details"]["hint"]


def test_hold_release_drop_reorder(animus: Invoke, project: Path) -> None:
    for key in ("a", "b", "c"):
        assert (
            animus(
                "queue", "enqueue", "--subject", f"custom:{key}", "--workflow-ref", "standard"
            ).code
            == 0
        )
    r = animus("queue", "hold", "QE-000001", "--reason", "later")
    assert r.code == 0
    assert "held 1 entry" in r.out
    r = animus("--json", "queue", "list", "--status", "held")
    assert r.data["entries"][0]["hold_reason"] == "later"
    assert animus("queue", "hold", "QE-000001").code == 4  # already held
    assert animus("queue", "hold", "QE-999999").code == 3
    r = animus("queue", "release", "--all")
    assert "dry run" in r.out
    assert animus("--json", "queue", "list", "--status", "held").data["total"] == 1
    assert animus("queue", "release", "--all", "--yes").code == 0
    r = animus("--json", "queue", "hold", "--subject-id", "b")
    assert r.data["changed"] == ["QE-000002"]
    r = animus("queue", "reorder", "c", "a")
    assert r.code == 0
    assert "QE-000003, QE-000001" in r.out
    order = [e["subject_key"] for e in animus("--json", "queue", "list").data["entries"]]
    assert order == ["c", "a", "b"]
    assert animus("queue", "reorder", "zzz").code == 3
    r = animus("queue", "drop", "QE-000003")
    assert "dry run" in r.out
    r = animus("--json", "queue", "drop", "QE-000003", "--yes")
    assert r.data["changed"] == ["QE-000003"]
    r = animus("--json", "queue", "drop")
    assert (r.code, r.error["code"]) == (2, "invalid_input")
    r = animus("--json", "queue", "drop", "--all", "--yes")
    assert sorted(r.data["changed"]) == ["QE-000001", "QE-000002"]
    assert animus("--json", "queue", "stats").data["dropped"] == 3
