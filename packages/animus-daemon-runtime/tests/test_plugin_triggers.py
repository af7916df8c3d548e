"""A trigger plugin (a real plugin process) feeds events; each is routed once and acked."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _support import Project, running_daemon, wait_until

TRIGGER = """#!{python}
import asyncio, json
from animus_plugin_protocol.runtime import Plugin

plugin = Plugin("animus-test-trigger", "0.1.0", "trigger_backend", "emits three events")

async def emit(ctx):
    await asyncio.sleep(0.2)
    ctx.notify("trigger/event", {{"event_id": "e1", "payload": {{"kind": "push"}}}})
    ctx.notify("trigger/event", {{"event_id": "e1", "payload": {{"kind": "push"}}}})
    e2 = {{"event_id": "e2", "subject_id": "TASK-001", "subject_kind": "task"}}
    ctx.notify("trigger/event", e2)

@plugin.method("trigger/watch")
async def watch(params, ctx):
    with open({out!r}, "a") as fh:
        fh.write(json.dumps({{"watch": params}}) + "\\n")
    asyncio.get_running_loop().create_task(emit(ctx))
    return {{"watching": True}}

@plugin.method("trigger/ack")
async def ack(params, ctx):
    with open({out!r}, "a") as fh:
        fh.write(json.dumps({{"ack": params}}) + "\\n")
    return {{"event_id": params["event_id"], "acked": True}}

plugin.main()
"""

CONFIG = """
triggers:
  - id: from-plugin
    type: plugin
    workflow_ref: standard
    config:
      plugin: animus-test-trigger
      repo: example/repo
"""


def test_trigger_plugin_events_are_routed_once_and_acknowledged(tmp_path: Path) -> None:
    project = Project(tmp_path)
    out = tmp_path / "trigger.jsonl"
    plugins = project.root / ".animus" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    script = plugins / "animus-test-trigger"
    script.write_text(TRIGGER.format(python=sys.executable, out=str(out)))
    script.chmod(0o755)
    project.write_workflows(CONFIG)
    (task,) = project.tasks(1)
    with running_daemon(project), project.client() as c:
        acks = wait_until(
            lambda: (
                [
                    json.loads(x)["ack"]
                    for x in (out.read_text().splitlines() if out.exists() else [])
                    if "ack" in json.loads(x)
                ]
                if out.exists() and out.read_text().count('"ack"') >= 3
                else None
            ),
            30,
            "three acks",
        )
        wait_until(lambda: project.hub.queue.stats().completed == 2, 60, "both runs")
        counters = c.call("daemon/metrics")["counters"]
        health = c.call("daemon/health")
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0] == {"watch": {"config": {"repo": "example/repo"}}}
    assert acks == [
        {"event_id": "e1", "status": "queued"},
        {"event_id": "e1", "status": "skipped"},  # the duplicate is not routed again
        {"event_id": "e2", "status": "queued"},
    ]
    entries = project.hub.queue.list("all", limit=10).entries
    assert sorted(e.trigger_source or "" for e in entries) == ["trigger:from-plugin"] * 2
    assert project.hub.tasks.get(task).status.value == "done"  # e2 named the task itself
    assert counters["trigger_events_total{plugin=animus-test-trigger,routed=true}"] == 2
    rows = {(r["name"], r["kind"]): r for r in health["plugins"]}
    assert rows[("animus-test-trigger", "trigger_backend")]["status"] == "healthy"  # discovered
    live = rows[("animus-test-trigger", "supervised")]  # kept running, probed with health/check
    assert live["status"] == "healthy"
    assert live["uptime_ms"] > 0
