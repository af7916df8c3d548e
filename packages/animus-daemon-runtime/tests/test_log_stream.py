"""``daemon/logs``: ``level`` is a minimum, ``plugin`` serves that plugin's stderr log (a
name, never a path), and following resumes exactly where the backlog ended."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from _support import Project, running_daemon, wait_until


def _append(path: Path, *lines: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")


def _messages(items: list[tuple[str, Any]]) -> list[str]:
    return [data["message"] for name, data in items if name == "daemon/log"]


def test_level_is_a_minimum_and_plugin_reads_that_plugins_log(project: Project) -> None:
    with running_daemon(project), project.client() as c:
        _append(
            project.paths.daemon_log,
            "2026-01-01T00:00:00.000Z INFO animus.test: routine",
            "2026-01-01T00:00:01.000Z WARNING animus.test: careful",
            "2026-01-01T00:00:02.000Z ERROR animus.test: broken",
        )
        warn = list(c.stream("daemon/logs", {"level": "warn"}, idle_timeout=5))
        mine = [m for m in _messages(warn) if m in ("routine", "careful", "broken")]
        assert mine == ["careful", "broken"]
        assert {d["level"] for n, d in warn if n == "daemon/log"} <= {"warn", "error"}

        plugin_log = project.paths.logs_dir / "plugins" / "animus-notifier-x.log"
        _append(plugin_log, "starting up", "2026-01-01T00:00:03.000Z ERROR notifier: no token")
        items = list(c.stream("daemon/logs", {"plugin": "animus-notifier-x"}, idle_timeout=5))
        rows = [d for n, d in items if n == "daemon/log"]
        assert [r["message"] for r in rows] == ["starting up", "no token"]
        assert {r["source"] for r in rows} == {"plugin"}
        assert rows[0]["target"] == "animus-notifier-x"
        # A path is reduced to its last component: nothing outside logs/plugins is served.
        outside = list(c.stream("daemon/logs", {"plugin": "../../daemon/daemon"}, idle_timeout=5))
        assert _messages(outside) == []
        assert outside[-1] == ("subscription/closed", "completed")


def test_following_resumes_where_the_backlog_ended(project: Project) -> None:
    """Lines are appended from the moment the stream is requested: each one arrives once,
    whether it fell into the backlog or into the followed part."""
    log = project.paths.daemon_log
    total = 60
    with running_daemon(project), project.client(30) as c:
        _append(log, *(f"2026-01-01T00:00:00.000Z INFO animus.test: before-{n}" for n in range(5)))
        got: list[str] = []
        done = threading.Event()

        def writer() -> None:
            for n in range(total):
                _append(log, f"2026-01-01T00:00:00.000Z INFO animus.test: line-{n}")
                if n % 10 == 0:
                    done.wait(0.01)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            for name, data in c.stream("daemon/logs", {"follow": True}, idle_timeout=5):
                if name != "daemon/log":
                    break
                if data["message"].startswith(("line-", "before-")):
                    got.append(data["message"])
                if got.count(f"line-{total - 1}"):
                    break
        finally:
            done.set()
            thread.join(30)
        wait_until(lambda: not thread.is_alive(), 30, "the writer")
    lines = [m for m in got if m.startswith("line-")]
    assert lines == [f"line-{n}" for n in range(total)]  # none lost, none twice, in order
    assert [m for m in got if m.startswith("before-")] == [f"before-{n}" for n in range(5)]
