"""The daemon with the real ``animus-workflow-runner`` and the scripted (mock) provider:
enqueue 20 tasks, all reach done with pool 4 never exceeded, each subject run once, and the
live stream carries phase events from the runner processes while they run."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from animus_daemon_runtime.client import ControlClient
from animus_workflow_runner.testing import WorkflowProject, make_workflow_project

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

WORKFLOWS = """
agents:
  builder: { tool: mock }
  critic: { tool: mock }
phases:
  plan: { mode: agent, agent: builder, directive: "Plan.", idempotency: idempotent }
  build: { mode: agent, agent: builder, directive: "Build.", idempotency: idempotent }
  review: { mode: agent, agent: critic, directive: "Review.", idempotency: idempotent }
workflows:
  - id: three
    worktree: skip
    phases: [plan, build, review]
default_workflow_ref: three
"""


def _runner() -> str:
    found = shutil.which("animus-workflow-runner") or str(
        Path(sys.executable).parent / "animus-workflow-runner"
    )
    if not Path(found).exists():
        pytest.fail("animus-workflow-runner is not installed in this environment")
    return found


class Daemon:
    def __init__(self, project: WorkflowProject, *args: str) -> None:
        self.project = project
        env = dict(project.env)
        env.pop("ANIMUS_WORKFLOW_RUNNER_BIN", None)
        self.env = env
        log = open(project.root.parent / "daemon.out", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "animus_daemon_runtime",
                "--project-root",
                str(project.root),
                *args,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        with project.hub() as hub:
            self.sock = hub.paths.control_sock
        deadline = time.monotonic() + 30
        while not self._up():
            assert self.proc.poll() is None, (project.root.parent / "daemon.out").read_text()
            assert time.monotonic() < deadline, "daemon did not come up"
            time.sleep(0.05)

    def _up(self) -> bool:
        try:
            with ControlClient(self.sock, timeout=2) as c:
                c.call("daemon/status")
        except OSError:
            return False
        return True

    def client(self, timeout: float = 30) -> ControlClient:
        return ControlClient(self.sock, timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def test_twenty_tasks_with_the_real_runner_and_pool_four(tmp_path: Path) -> None:
    _runner()
    project = make_workflow_project(tmp_path, WORKFLOWS)
    ids = [project.create_task(f"task {n}") for n in range(20)]
    daemon = Daemon(project, "--pool-size", "4", "--max-tasks-per-tick", "4")
    seen: list[dict[str, Any]] = []
    done = threading.Event()

    def watch() -> None:
        with daemon.client(120) as c:
            for name, data in c.stream("workflow/events", {}, idle_timeout=120):
                if name != "workflow/event":
                    return
                seen.append({**data, "_received": time.time()})
                if sum(1 for e in seen if e["kind"] == "workflow_completed") == len(ids):
                    done.set()
                    return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with daemon.client() as c:
            deadline = time.monotonic() + 30  # the stream is subscribed before any work
            while c.call("daemon/status")["subscribers"]["workflow/event"] < 1:
                assert time.monotonic() < deadline, "the stream did not subscribe"
                time.sleep(0.02)
            for task_id in ids:
                c.call("queue/enqueue", {"task_id": task_id})
        assert done.wait(240), f"only {len(seen)} events; {daemon.proc.poll()}"
        with daemon.client() as c:
            deadline = time.monotonic() + 30
            while c.call("queue/stats")["done_recent"] < len(ids) and time.monotonic() < deadline:
                time.sleep(0.1)
            stats = c.call("queue/stats")
    finally:
        daemon.stop()
    assert stats["done_recent"] == len(ids)
    with project.hub() as hub:
        statuses = {t: hub.tasks.get(t).status.value for t in ids}
        runs = hub.runs.list(limit=100).runs
    assert set(statuses.values()) == {"done"}
    assert sorted(r.subject_key or "" for r in runs) == sorted(ids)  # each subject run once
    # Concurrency from the runners' own start/finish events: never above the pool.
    timeline = sorted(
        (e["occurred_at"], +1 if e["kind"] == "workflow_started" else -1)
        for e in seen
        if e["kind"] in ("workflow_started", "workflow_completed")
    )
    level = peak = 0
    for _at, step in timeline:
        level += step
        peak = max(peak, level)
    assert 1 <= peak <= 4
    phases = Counter(e["payload"].get("phase_id") for e in seen if e["kind"] == "phase_completed")
    assert phases == Counter({"plan": 20, "build": 20, "review": 20})
    # Live: phase events reached the subscriber before their run had finished.
    finished = {e["workflow_id"]: e["_received"] for e in seen if e["kind"] == "workflow_completed"}
    early = [
        e
        for e in seen
        if e["kind"] == "phase_completed" and e["_received"] < finished[e["workflow_id"]]
    ]
    assert len(early) == 60
