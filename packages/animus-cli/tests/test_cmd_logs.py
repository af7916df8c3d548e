"""``animus logs tail`` / ``animus events tail``: the merged feed on real files, --follow
without a daemon (polling files another process appends to), --follow through a real
daemon (runner events while the run runs), Ctrl-C, and every bad input."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from animus_cli.testing import Invoke
from animus_plugin_protocol.testing import wait_until
from animus_protocol.paths import ScopePaths

pytestmark = pytest.mark.timeout(120)

FAKE_RUNNER = Path(__file__).parents[2] / "animus-daemon-runtime" / "tests" / "fake_runner.py"


def _ts(dt: datetime, ms: bool = False) -> str:
    text = dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (text[:-3] if ms else text) + "Z"


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def _event(wf: str, seq: int, ts: datetime, kind: str, phase: str | None = None, **p: Any) -> str:
    record: dict[str, Any] = {"seq": seq, "ts": _ts(ts), "workflow_id": wf, "kind": kind}
    if phase:
        record["phase_id"] = phase
    record["payload"] = p
    return json.dumps(record) + "\n"


@pytest.fixture
def scope(project: Path) -> ScopePaths:
    return ScopePaths.for_project(project)


T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def files(scope: ScopePaths) -> ScopePaths:
    """A daemon log with a traceback, two plugin logs, two runs (one with a corrupt line)."""
    _append(
        scope.daemon_log,
        f"{_ts(T0, ms=True)} INFO animus.daemon: daemon started\n"
        f"{_ts(T0 + timedelta(seconds=4), ms=True)} ERROR animus.daemon.runner: runner crashed\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1\n'
        f"{_ts(T0 + timedelta(seconds=6), ms=True)} WARNING animus.daemon: slow wake\n",
    )
    plugins = scope.logs_dir / "plugins"
    _append(plugins / "mock.log", f"{_ts(T0 + timedelta(seconds=2))} DEBUG mock ready\n")
    _append(plugins / "mock.log", f"{_ts(T0 + timedelta(seconds=5))} error: quota exceeded\n")
    _append(plugins / "quiet.log", "a line without a time\n")
    wf1 = scope.run_dir("wf-1") / "workflow-events.jsonl"
    _append(wf1, _event("wf-1", 1, T0 + timedelta(seconds=1), "workflow_started"))
    _append(wf1, "{not json\n")
    _append(wf1, '["not", "an", "event"]\n')
    _append(wf1, _event("wf-1", 2, T0 + timedelta(seconds=3), "rework", "review", reason="nit"))
    _append(
        wf1,
        _event("wf-1", 3, T0 + timedelta(seconds=7), "phase_completed", "impl", status="success"),
    )
    wf2 = scope.run_dir("wf-2") / "workflow-events.jsonl"
    _append(wf2, _event("wf-2", 1, T0 + timedelta(seconds=8), "workflow_failed", reason="boom"))
    _append(wf2, '{"seq": 2, "ts": "2026-03-01T12:00:09Z", "kin')  # torn last line
    # quiet.log has no timestamps: its lines take the file's time; pin it after the others.
    stamp = (T0 + timedelta(seconds=9)).timestamp()
    os.utime(plugins / "quiet.log", (stamp, stamp))
    return scope


def _entries(animus: Invoke, *args: str) -> list[dict[str, Any]]:
    result = animus("logs", "tail", *args, json_output=True)
    entries: list[dict[str, Any]] = result.data["entries"]
    return entries


# -- the merged feed ------------------------------------------------------------------------------


def test_merge_orders_every_source_in_time(animus: Invoke, files: ScopePaths) -> None:
    entries = _entries(animus)
    assert [(e["target"], e["message"]) for e in entries] == [
        ("animus.daemon", "daemon started"),
        ("run:wf-1", "workflow_started"),
        ("plugin:mock", f"{_ts(T0 + timedelta(seconds=2))} DEBUG mock ready"),
        ("run:wf-1", "rework review nit"),
        ("animus.daemon.runner", "runner crashed"),
        ("animus.daemon.runner", "Traceback (most recent call last):"),
        ("animus.daemon.runner", '  File "x.py", line 1'),
        ("plugin:mock", f"{_ts(T0 + timedelta(seconds=5))} error: quota exceeded"),
        ("animus.daemon", "slow wake"),
        ("run:wf-1", "phase_completed impl success"),
        ("run:wf-2", "workflow_failed boom"),
        ("plugin:quiet", "a line without a time"),
    ]
    levels = [e["level"] for e in entries]
    assert levels == [
        "info", "info", "debug", "warn", "error", "error", "error", "error", "warn", "info",
        "error", "info",
    ]  # fmt: skip
    assert [e["ts"] for e in entries] == sorted(e["ts"] for e in entries)
    run = entries[-2]
    assert run["source"] == "workflow"
    assert run["fields"] == {
        "workflow_id": "wf-2",
        "kind": "workflow_failed",
        "seq": 1,
        "payload": {"reason": "boom"},
    }
    assert {"id", "ts", "level", "source", "target", "message"} <= set(entries[0])
    assert "fields" not in entries[0]
    human = animus("logs", "tail", "--limit", "2")
    assert human.code == 0
    assert human.out.splitlines() == [
        f"{_ts(T0 + timedelta(seconds=8))} ERROR run:wf-2: workflow_failed boom",
        f"{_ts(T0 + timedelta(seconds=9))} INFO  plugin:quiet: a line without a time",
    ]


def test_filters_narrow_the_feed(animus: Invoke, files: ScopePaths) -> None:
    def messages(*args: str) -> list[str]:
        return [f"{e['target']} {e['message']}" for e in _entries(animus, *args)]

    assert messages("--level", "warn") == [
        "run:wf-1 rework review nit",
        "animus.daemon.runner runner crashed",
        "animus.daemon.runner Traceback (most recent call last):",
        'animus.daemon.runner   File "x.py", line 1',
        f"plugin:mock {_ts(T0 + timedelta(seconds=5))} error: quota exceeded",
        "animus.daemon slow wake",
        "run:wf-2 workflow_failed boom",
    ]
    assert messages("--level", "ERROR", "--source", "runs") == ["run:wf-2 workflow_failed boom"]
    since = _ts(T0 + timedelta(seconds=6))
    assert messages("--since", since, "--source", "daemon") == ["animus.daemon slow wake"]
    assert messages("--limit", "1") == ["plugin:quiet a line without a time"]
    assert messages("--plugin", "mock") == [
        f"plugin:mock {_ts(T0 + timedelta(seconds=2))} DEBUG mock ready",
        f"plugin:mock {_ts(T0 + timedelta(seconds=5))} error: quota exceeded",
    ]
    assert messages("--workflow-id", "wf-2") == ["run:wf-2 workflow_failed boom"]
    assert len(messages("--source", "plugins")) == 3
    # Relative --since against now: every fixture line is months old except quiet.log's,
    # whose file time we move to now.
    os.utime(files.logs_dir / "plugins" / "quiet.log")
    assert messages("--since", "1h") == ["plugin:quiet a line without a time"]


def test_events_tail_prints_runner_events(animus: Invoke, files: ScopePaths) -> None:
    data = animus("events", "tail", json_output=True).data
    events = data["events"]
    assert [(e["workflow_id"], e["seq"], e["kind"]) for e in events] == [
        ("wf-1", 1, "workflow_started"),
        ("wf-1", 2, "rework"),
        ("wf-1", 3, "phase_completed"),
        ("wf-2", 1, "workflow_failed"),
    ]
    assert events[2] == {
        "workflow_id": "wf-1",
        "kind": "phase_completed",
        "phase_id": "impl",
        "seq": 3,
        "level": "info",
        "payload": {"status": "success"},
        "occurred_at": _ts(T0 + timedelta(seconds=7)),
    }
    only = animus("events", "tail", "--workflow-id", "wf-1", "--limit", "1")
    assert only.code == 0
    assert only.out.split() == [
        _ts(T0 + timedelta(seconds=7)),
        "wf-1",
        "phase_completed",
        "impl",
        "success",
    ]


def test_unknown_plugin_is_an_empty_result_with_a_note(animus: Invoke, files: ScopePaths) -> None:
    result = animus("logs", "tail", "--plugin", "nope", json_output=True)
    assert result.data == {
        "entries": [],
        "notes": ["no log for plugin 'nope' (plugins with logs: mock, quiet)"],
    }
    assert "note: no log for plugin 'nope'" in result.err


def test_nothing_written_yet_is_an_empty_feed(animus: Invoke) -> None:
    assert animus("logs", "tail", json_output=True).data == {"entries": []}
    assert animus("events", "tail", json_output=True).data == {"events": []}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["logs", "tail", "--level", "loud"], "unknown --level 'loud'"),
        (["logs", "tail", "--since", "5x"], "expected 1h, 30m, 2d or an RFC 3339 time"),
        (["logs", "tail", "--since", "2026-13-45T00:00:00Z"], "malformed --since"),
        (["events", "tail", "--since", "yesterday"], "malformed --since 'yesterday'"),
        (["logs", "tail", "--limit", "0"], "'--limit': 0 is not in the range x>=1"),
        (["events", "tail", "--limit", "-3"], "'--limit'"),
        (["logs", "tail", "--source", "kernel"], "'kernel' is not one of"),
        (["logs", "tail", "--source", "runs", "--plugin", "x"], "--plugin selects plugin logs"),
        (["logs", "tail", "--source", "daemon", "--workflow-id", "w"], "--workflow-id selects"),
        (["logs", "tail", "--follow", "--idle-timeout", "0"], "'--idle-timeout'"),
    ],
)
def test_bad_input_is_a_clear_error(animus: Invoke, args: list[str], needle: str) -> None:
    result = animus(*args, json_output=True)
    assert result.code == 2
    error = result.error
    assert error["code"] == "invalid_input"
    assert needle in error["message"]
    assert "Traceback" not in result.err


# -- --follow with real processes -----------------------------------------------------------------


class Follower:
    """An ``animus ... --follow`` child whose stdout lines are read on a thread."""

    def __init__(self, root: Path, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "animus_cli", "--project-root", str(root), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next(self, timeout: float = 30) -> dict[str, Any]:
        line = self.lines.get(timeout=timeout)
        assert line is not None, f"the follower ended: {self.finish()}"
        item: dict[str, Any] = json.loads(line)
        return item

    def until(self, predicate: Any, timeout: float = 60) -> list[dict[str, Any]]:
        """Items up to and including the first that satisfies ``predicate``."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen.append(self.next(max(0.1, deadline - time.monotonic())))
            if predicate(seen[-1]):
                return seen
        raise AssertionError(f"not seen in time; got {seen}")

    def interrupt(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        return self.finish()

    def finish(self) -> tuple[int, str]:
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


def _env(project: Path) -> dict[str, str]:
    return {**os.environ, "ANIMUS_HOME": os.environ["ANIMUS_HOME"]}


def test_follow_without_daemon_picks_up_appended_lines(project: Path, files: ScopePaths) -> None:
    follower = Follower(
        project, _env(project), "--json", "logs", "tail", "--follow", "--limit", "1"
    )
    # The backlog is printed before following starts: once it is out, every write below
    # happens while the command follows.
    assert follower.next()["message"] == "a line without a time"
    now = datetime.now(UTC)
    # A new run appears (its directory and file did not exist when following started).
    wf3 = files.run_dir("wf-3") / "workflow-events.jsonl"
    _append(wf3, _event("wf-3", 1, now, "phase_started", "impl"))
    assert follower.next()["message"] == "phase_started impl"
    _append(files.daemon_log, f"{_ts(now, ms=True)} WARNING animus.daemon: live line\n")
    got = follower.next()
    assert (got["level"], got["message"], got["source"]) == ("warn", "live line", "daemon")
    # A half-written line is not printed until it is complete.
    _append(files.logs_dir / "plugins" / "mock.log", "ERROR half ")
    _append(files.logs_dir / "plugins" / "fresh.log", "first words of a new plugin\n")
    assert follower.next()["target"] == "plugin:fresh"
    _append(files.logs_dir / "plugins" / "mock.log", "a line\n")
    got = follower.next()
    assert (got["message"], got["level"]) == ("ERROR half a line", "error")
    # Rotation (a new file under the same name) and truncation start over from its top.
    files.daemon_log.rename(files.daemon_log.with_suffix(".log.1"))
    _append(files.daemon_log, f"{_ts(now, ms=True)} INFO animus.daemon: after rotation\n")
    assert follower.next()["message"] == "after rotation"
    wf3.write_text("")
    _append(wf3, "{corrupt\n" + _event("wf-3", 2, now, "phase_completed", "impl", status="failed"))
    got = follower.next()
    assert (got["message"], got["level"]) == ("phase_completed impl failed", "error")
    code, err = follower.interrupt()
    assert code == 0, err
    assert "Traceback" not in err


def test_follow_stops_at_max_events_and_idle_timeout(project: Path, files: ScopePaths) -> None:
    env = _env(project)
    args = ["--project-root", str(project), "--json", "events", "tail", "--follow"]
    capped = subprocess.run(
        [sys.executable, "-m", "animus_cli", *args, "--max-events", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert capped.returncode == 0, capped.stderr
    assert [json.loads(x)["seq"] for x in capped.stdout.splitlines()] == [1, 2]
    idle = subprocess.run(
        [
            sys.executable,
            "-m",
            "animus_cli",
            *args,
            "--workflow-id",
            "wf-2",
            "--idle-timeout",
            "0.3",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert idle.returncode == 0, idle.stderr
    assert [json.loads(x)["kind"] for x in idle.stdout.splitlines()] == ["workflow_failed"]


# -- --follow through a real daemon ---------------------------------------------------------------


def _cli(root: Path, env: dict[str, str], *args: str) -> Any:
    proc = subprocess.run(
        [sys.executable, "-m", "animus_cli", "--project-root", str(root), "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["data"]


def test_follow_with_a_daemon_shows_phase_events_while_the_run_runs(project: Path) -> None:
    env = {
        **_env(project),
        "ANIMUS_WORKFLOW_RUNNER_BIN": f"{sys.executable} {FAKE_RUNNER}",
        "FAKE_RUNNER_PHASE_SECS": "1.0",
        "FAKE_RUNNER_PHASES": "3",
    }
    _cli(project, env, "init")
    assert _cli(project, env, "daemon", "start")["started"] is True
    follower = None
    try:
        follower = Follower(project, env, "--json", "logs", "tail", "--follow", "--limit", "1")
        # Subscribed to the daemon's runner stream (and to its log) before any work starts.
        wait_until(
            lambda: _cli(project, env, "daemon", "status")["subscribers"]["workflow/event"] == 1,
            30,
            "the follower's subscription",
        )
        task = _cli(project, env, "task", "create", "--title", "t", "--status", "ready")["id"]
        _cli(project, env, "queue", "enqueue", "--task-id", task)
        seen = follower.until(
            lambda e: (
                e["source"] == "workflow" and e["message"] == "phase_completed phase-1 success"
            )
        )
        workflow_id = seen[-1]["fields"]["workflow_id"]
        # Phase 1 of 3 is done and each phase takes a second: the run is still going.
        run = _cli(project, env, "workflow", "get", workflow_id)
        assert run["status"] == "running"
        assert any(e["message"] == "phase_started phase-1" for e in seen)
        rest = follower.until(lambda e: e["message"] == "workflow_completed")
        kinds = [e["fields"]["kind"] for e in seen + rest if e["source"] == "workflow"]
        assert kinds == [
            "workflow_started",
            "phase_started",
            "phase_completed",
            "phase_started",
            "phase_completed",
            "phase_started",
            "phase_completed",
            "workflow_completed",
        ]
        # Both subscriptions stayed open the whole run (the runner events arrive over the
        # stream and from the run's file, whichever is first; the kinds above show each once).
        subscribers = _cli(project, env, "daemon", "status")["subscribers"]
        assert (subscribers["workflow/event"], subscribers["daemon/log"]) == (1, 1)
        # The daemon's own log lines come live too (it logs each daemon event).
        assert any(e["source"] == "daemon" for e in seen + rest[:-1]) or follower.until(
            lambda e: e["source"] == "daemon", timeout=20
        )
        # A run the daemon does not supervise (a foreground `animus workflow run`) still shows.
        foreground = ScopePaths.for_project(project).run_dir("fg-1") / "workflow-events.jsonl"
        _append(foreground, _event("fg-1", 1, datetime.now(UTC), "phase_started", "solo"))
        assert follower.until(lambda e: e["target"] == "run:fg-1")[-1]["message"] == (
            "phase_started solo"
        )
        code, err = follower.interrupt()
        follower = None
        assert code == 0, err
        assert "Traceback" not in err
    finally:
        if follower is not None:
            follower.proc.kill()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "animus_cli",
                "--project-root",
                str(project),
                "daemon",
                "stop",
                "--timeout",
                "5",
            ],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
