"""Daemon events reach a notifier plugin (a real plugin process) per event-type subscription."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _support import Project, running_daemon, wait_until

NOTIFIER = """#!{python}
import json, os
from animus_plugin_protocol.runtime import Plugin

plugin = Plugin("animus-test-notifier", "0.1.0", "notifier", "writes events to a file")

@plugin.method("notifier/notify")
async def notify(params, ctx):
    with open({out!r}, "a") as fh:
        fh.write(json.dumps(params["event"]) + "\\n")
    return {{"accepted": True, "delivered": 1}}

plugin.main()
"""


def test_subscribed_event_types_reach_the_notifier_plugin(tmp_path: Path) -> None:
    project = Project(tmp_path, FAKE_RUNNER_FAIL="TASK-001")
    out = tmp_path / "notified.jsonl"
    plugins = project.root / ".animus" / "plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    script = plugins / "animus-test-notifier"
    script.write_text(NOTIFIER.format(python=sys.executable, out=str(out)))
    script.chmod(0o755)
    project.paths.pm_config.parent.mkdir(parents=True, exist_ok=True)
    project.paths.pm_config.write_text(
        json.dumps(
            {
                "notification_config": {
                    "subscriptions": [
                        {
                            "plugin": "animus-test-notifier",
                            "event_types": ["workflow-failed", "task-blocked"],
                        }
                    ]
                }
            }
        )
    )
    ids = project.tasks(2)
    project.enqueue(ids)
    with running_daemon(project), project.client() as c:
        wait_until(
            lambda: project.hub.queue.stats().completed + project.hub.queue.stats().failed == 2,
            60,
            "runs",
        )
        wait_until(
            lambda: out.exists() and len(out.read_text().splitlines()) >= 2, 30, "notifications"
        )
        metrics = c.call("daemon/metrics")["counters"]
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(e["event_type"] for e in events) == ["task-blocked", "workflow-failed"]
    assert all(e["schema"] == "animus.daemon-event.v1" for e in events)
    assert (
        events[0]["data"]["subject"] == "TASK-001" or events[0]["data"].get("task_id") == "TASK-001"
    )
    assert metrics["notifications_delivered_total{plugin=animus-test-notifier}"] == 2
