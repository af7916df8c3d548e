"""Issue 6 acceptance, operations, against a real daemon process:

- ``daemon/pm-config.json`` is re-read without a restart, and a new pool size changes how
  many runner processes actually run at once;
- ``daemon/health`` has a row per plugin and says why it is degraded;
- ``daemon/metrics`` has the counters (runs, phases, plugin restarts) and gauges (active
  runs, queue depth) the issue names, with the right values;
- ``logs/events.jsonl`` is redacted and rotated (and replay reads across the rotation);
- ``active_hours`` gates the file-watch trigger (time injected through the clock file).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from _support import Project, running_daemon, task_statuses, wait_until


def _concurrency_before(project: Project, moment: float) -> int:
    """Most runner processes alive at once among trace lines written before ``moment``."""
    current = best = 0
    for what, _wf, ts in sorted(project.trace_lines(), key=lambda x: x[2]):
        if ts >= moment:
            break
        current += 1 if what == "start" else -1
        best = max(best, current)
    return best


def test_a_new_pool_size_in_pm_config_takes_effect_on_the_running_daemon(tmp_path: Path) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="0.4")
    project.paths.pm_config.parent.mkdir(parents=True, exist_ok=True)
    project.paths.pm_config.write_text(json.dumps({"pool_size": 1}))
    ids = project.tasks(7)
    with running_daemon(project, "--interval-secs", "30"), project.client() as c:
        assert c.call("daemon/status")["pool_size"] == 1
        for task_id in ids:
            c.call("queue/enqueue", {"task_id": task_id})
        # Let the single slot turn over at least once before the change.
        wait_until(lambda: c.call("queue/stats")["done_recent"] >= 1, 30, "a first run")
        changed_at = time.time()
        project.paths.pm_config.write_text(json.dumps({"pool_size": 3}))
        c.call("daemon/nudge", {"reason": "config"})  # what 'animus daemon config' sends
        wait_until(lambda: len(c.call("daemon/status")["active_runs"]) == 3, 30, "3 at once")
        wait_until(lambda: set(task_statuses(project, ids).values()) == {"done"}, 60, "all done")
    assert _concurrency_before(project, changed_at) == 1
    assert project.max_concurrency() == 3
    logged = project.paths.events_log.read_text()
    assert '"config-reload"' in logged
    assert '"pool_size": 3' in logged


BROKEN_PLUGIN = "#!/bin/sh\necho 'not a manifest'\nexit 3\n"

NOTIFIER = """#!{python}
import os, sys
from animus_plugin_protocol.runtime import Plugin

plugin = Plugin("{name}", "0.1.0", "notifier", "a notifier for the acceptance tests")

@plugin.method("notifier/notify")
async def notify(params, ctx):
    if {crash}:
        os._exit(1)  # dies on every event: the supervisor restarts it
    return {{"accepted": True, "delivered": 1}}

plugin.main()
"""


def _install(project: Project, name: str, text: str) -> None:
    plugins = project.root / ".animus" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    script = plugins / name
    script.write_text(text)
    script.chmod(0o755)


def test_health_rows_per_plugin_degraded_reasons_and_the_named_metrics(tmp_path: Path) -> None:
    project = Project(tmp_path, FAKE_RUNNER_PHASE_SECS="0.5", FAKE_RUNNER_FAIL="TASK-003")
    _install(project, "animus-broken-thing", BROKEN_PLUGIN)
    _install(
        project,
        "animus-good-notifier",
        NOTIFIER.format(python=sys.executable, name="animus-good-notifier", crash=False),
    )
    _install(
        project,
        "animus-crashing-notifier",
        NOTIFIER.format(python=sys.executable, name="animus-crashing-notifier", crash=True),
    )
    project.paths.pm_config.parent.mkdir(parents=True, exist_ok=True)
    subscriptions = [
        {"plugin": "animus-good-notifier", "event_types": ["workflow-failed"]},
        {"plugin": "animus-crashing-notifier", "event_types": ["workflow"]},
    ]
    project.paths.pm_config.write_text(
        json.dumps({"pool_size": 1, "notification_config": {"subscriptions": subscriptions}})
    )
    ids = project.tasks(3)
    with running_daemon(project, "--interval-secs", "30"), project.client() as c:
        for task_id in ids:
            c.call("queue/enqueue", {"task_id": task_id})
        # Gauges while one run is active and two wait (pool 1).
        gauges = wait_until(
            lambda: (
                (g := c.call("daemon/metrics")["gauges"]).get("active_runs") == 1
                and g.get("queue_depth") == 2
                and g
            ),
            30,
            "one active, two queued",
        )
        assert gauges["daemon_uptime_seconds"] > 0
        wait_until(lambda: c.call("queue/stats")["done_recent"] == 3, 60, "three runs")
        counters = wait_until(
            lambda: (
                (m := c.call("daemon/metrics")["counters"]).get(
                    "plugin_restarts_total{plugin=animus-crashing-notifier}", 0
                )
                >= 1
                and m
            ),
            30,
            "a counted notifier restart",
        )
        counters = wait_until(
            lambda: (
                (m := c.call("daemon/metrics")["counters"]).get(
                    "notifications_delivered_total{plugin=animus-good-notifier}"
                )
                and m
            ),
            30,
            "the failure delivered",
        )
        health = c.call("daemon/health")
        final_gauges = c.call("daemon/metrics")["gauges"]
    assert counters["workflow_runs_total{status=completed}"] == 2
    assert counters["workflow_runs_total{status=failed}"] == 1
    assert counters["phase_executions_total{status=success}"] == 2 * 3 + 0
    assert counters["phase_executions_total{status=failed}"] == 1
    # Per event type: the good notifier got the one failure and nothing else.
    assert counters["notifications_delivered_total{plugin=animus-good-notifier}"] == 1
    assert "notifications_delivered_total{plugin=animus-crashing-notifier}" not in counters
    assert (final_gauges["active_runs"], final_gauges["queue_depth"]) == (0, 0)
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in health["plugins"]:
        rows.setdefault(row["name"], []).append(row)
    assert {r["kind"] for r in rows["animus-good-notifier"]} >= {"notifier", "supervised"}
    assert "supervised" in {r["kind"] for r in rows["animus-crashing-notifier"]}
    assert all(r["status"] == "healthy" for r in rows["animus-good-notifier"])
    broken = [r for name, rs in rows.items() if "animus-broken-thing" in name for r in rs]
    assert broken
    assert broken[0]["status"] == "unhealthy"
    assert broken[0]["last_error"]
    assert health["status"] == "degraded"
    assert health["healthy"] is False
    assert any("animus-broken-thing" in reason for reason in health["degraded_reasons"])


def test_events_log_is_redacted_and_rotated_and_replay_reads_across_rotation(
    tmp_path: Path,
) -> None:
    secret = "sk-live-4f9a8b7c6d5e"
    project = Project(
        tmp_path,
        ANIMUS_WORKFLOW_RUNNER_BIN=f"sh -c 'echo api_key={secret} >&2; kill -9 $$'",
    )
    log = project.paths.events_log
    log.parent.mkdir(parents=True, exist_ok=True)
    # An events.jsonl just under the 10 MiB rotation size, as a long-lived daemon leaves it.
    filler = {
        "schema": "animus.daemon-event.v1",
        "id": "ev-old-000001",
        "timestamp": "2026-01-01T00:00:00.000000Z",
        "ts": "2026-01-01T00:00:00.000000Z",
        "event_type": "old-filler",
        "data": {"pad": "x" * 900},
    }
    line = (json.dumps(filler) + "\n").encode()
    count = (10 * 1024 * 1024 - 64) // len(line)
    last = dict(filler, id="ev-old-last")
    last["data"] = {"pad": ""}
    room = 10 * 1024 * 1024 - 64 - count * len(line) - len(json.dumps(last)) - 1
    last["data"] = {"pad": "y" * max(room, 0)}
    log.write_bytes(line * count + (json.dumps(last) + "\n").encode())
    count += 1
    assert 10 * 1024 * 1024 - 128 < log.stat().st_size <= 10 * 1024 * 1024 - 64
    (task,) = project.tasks(1)
    with running_daemon(project, "--interval-secs", "30"), project.client() as c:
        ident = c.request("daemon/events")
        assert c.wait_reply(ident)["result"] == {"watching": True}
        c.call("queue/enqueue", {"task_id": task})
        live = wait_until(lambda: _crash_event(c, ident), 30, "the runner-crashed event")
        wait_until(lambda: c.call("queue/stats")["done_recent"] == 1, 30, "the failed entry")
        replay = list(c.stream("daemon/events", {"since": "1970-01-01T00:00:00Z"}, idle_timeout=1))
    rotated = log.with_name(log.name + ".1")
    assert rotated.exists()  # the full file moved aside...
    assert rotated.read_bytes().startswith(line)
    assert log.stat().st_size < 1024 * 1024  # ...and the daemon writes a fresh one
    text = log.read_text()
    assert '"daemon_startup"' in text
    assert '"runner-crashed"' in text
    assert secret not in text  # redacted in the file...
    assert "[REDACTED]" in text
    assert secret not in json.dumps(live)  # ...and in the live stream
    kinds = [data["kind"] for name, data in replay if name == "daemon/event"]
    assert kinds.count("old-filler") == count  # replay walks the rotated file first
    assert kinds.index("old-filler") < kinds.index("daemon_startup")
    assert secret not in json.dumps(replay)


def _crash_event(c: Any, ident: int) -> dict[str, Any] | None:
    message = c.read_message(10)
    if message is None or (message.get("params") or {}).get("id") != ident:
        return None
    data: dict[str, Any] = message["params"]["data"]
    return data if data["payload"].get("action") == "runner-crashed" else None


_TRIGGERS = """
daemon:
  active_hours: 09:00-17:00
triggers:
  - id: docs-changed
    type: file_watcher
    workflow_ref: standard
    config:
      paths: [watched]
      debounce_secs: 0.1
"""


def test_active_hours_gate_the_file_watch_trigger(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write_workflows(_TRIGGERS)
    (project.root / "watched").mkdir()
    clock = tmp_path / "clock.txt"
    clock.write_text("2026-03-02T20:00:00Z")  # outside 09:00-17:00 UTC
    env = {"ANIMUS_DAEMON_CLOCK_FILE": str(clock)}
    with running_daemon(project, "--interval-secs", "30", env=env), project.client() as c:
        c.call("daemon/nudge")
        wait_until(lambda: "docs-changed" in _daemon_log(project), 30, "the watcher")

        def gated() -> bool:
            (project.root / "watched" / "a.md").write_text(str(time.time()))
            return bool(
                wait_until_or_none(
                    lambda: c.call("daemon/metrics")["counters"].get(
                        "trigger_events_total{plugin=docs-changed,routed=false}"
                    ),
                    1.0,
                )
            )

        wait_until(gated, 20, "a change seen outside active hours")
        assert _trigger_entries(project) == []  # seen, and not dispatched
        clock.write_text("2026-03-02T10:00:00Z")  # inside
        c.call("daemon/nudge")

        def routed() -> bool:
            (project.root / "watched" / "b.md").write_text(str(time.time()))
            return bool(wait_until_or_none(lambda: _trigger_entries(project), 1.0))

        wait_until(routed, 20, "a change dispatched inside active hours")
        wait_until(lambda: c.call("queue/stats")["done_recent"] >= 1, 60, "its run")
    logged = project.paths.events_log.read_text()
    assert '"outside active_hours"' in logged


def wait_until_or_none(predicate: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return None


def _trigger_entries(project: Project) -> list[Any]:
    page = project.hub.queue.list("all", limit=100)
    return [e for e in page.entries if (e.trigger_source or "").startswith("trigger:")]


def _daemon_log(project: Project) -> str:
    path = project.paths.daemon_log
    return path.read_text() if path.exists() else ""


def test_a_secret_in_a_crashed_runners_output_is_not_stored_in_the_task(tmp_path: Path) -> None:
    secret = "sk-live-4f9a8b7c6d5e"
    project = Project(
        tmp_path,
        ANIMUS_WORKFLOW_RUNNER_BIN=f"sh -c 'echo api_key={secret} >&2; kill -9 $$'",
    )
    (task,) = project.tasks(1)
    (entry,) = project.enqueue([task])
    with running_daemon(project, "--interval-secs", "30"):
        wait_until(lambda: project.hub.queue.get(entry).status == "failed", 30, "failed entry")
    reason = project.hub.tasks.get(task).blocked_reason or ""
    assert "SIGKILL" in reason  # the useful part stays
    assert secret not in reason


TRIGGER_PLUGIN = """#!{python}
import asyncio, json
from animus_plugin_protocol.runtime import Plugin

plugin = Plugin("animus-gated-trigger", "0.1.0", "trigger_backend", "emits one event")

async def emit(ctx):
    await asyncio.sleep(0.2)
    ctx.notify("trigger/event", {{"event_id": "e1", "payload": {{"kind": "push"}}}})

@plugin.method("trigger/watch")
async def watch(params, ctx):
    asyncio.get_running_loop().create_task(emit(ctx))
    return {{"watching": True}}

@plugin.method("trigger/ack")
async def ack(params, ctx):
    with open({out!r}, "a") as fh:
        fh.write(json.dumps(params) + "\\n")
    return {{"event_id": params["event_id"], "acked": True}}

plugin.main()
"""


def test_active_hours_gate_trigger_plugin_events(tmp_path: Path) -> None:
    project = Project(tmp_path)
    out = tmp_path / "acks.jsonl"
    _install(
        project, "animus-gated-trigger", TRIGGER_PLUGIN.format(python=sys.executable, out=str(out))
    )
    project.write_workflows(
        "daemon:\n  active_hours: 09:00-17:00\ntriggers:\n  - id: from-plugin\n"
        "    type: plugin\n    workflow_ref: standard\n"
        "    config:\n      plugin: animus-gated-trigger\n"
    )
    clock = tmp_path / "clock.txt"
    clock.write_text("2026-03-02T20:00:00Z")  # outside 09:00-17:00 UTC
    env = {"ANIMUS_DAEMON_CLOCK_FILE": str(clock)}
    with running_daemon(project, "--interval-secs", "30", env=env):
        wait_until(lambda: out.exists() and out.read_text().strip(), 30, "the ack")
    (ack,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert (ack["event_id"], ack["status"]) == ("e1", "skipped")  # acknowledged, not routed
    assert project.hub.queue.list("all", limit=10).entries == []
