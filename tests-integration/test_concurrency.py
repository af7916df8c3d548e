"""Eight real processes create, update, enqueue and lease on one project: nothing is lost.

Each worker is a separate interpreter (``spawn``) with its own ServiceHub and SQLite
connection on the same ``workflow.db``. Phase 1: every worker creates tasks, updates each
(status and priority), enqueues them, and all race to enqueue one shared subject. Phase 2
(after a barrier): all workers lease and complete concurrently until the queue is empty.
A CLI process enqueues alongside them. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WORKERS = 8
TASKS_PER_WORKER = 12
TIMEOUT = 240

# Each worker is its own interpreter; it prints one JSON result line.
_WORKER = r"""
import json, sys, time
from pathlib import Path
from animus_core.hub import ServiceHub
from animus_protocol.envelope import ConflictError

index, project, sync, workers, per_worker = (
    int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
)
result = {"index": index, "created": [], "conflicts": 0, "leased": []}
try:
    with ServiceHub(project) as hub:
        for n in range(per_worker):
            task = hub.tasks.create(title=f"w{index}-t{n}")
            hub.tasks.set_status(task.id, "ready")
            hub.tasks.set_priority(task.id, "high" if n % 2 else "low")
            hub.queue.enqueue_subject("task", task.id, workflow_ref="standard")
            result["created"].append(task.id)
        try:
            hub.queue.enqueue_subject("custom", "shared", workflow_ref="standard")
        except ConflictError:
            result["conflicts"] += 1
        # file barrier: start leasing together (bounded wait)
        (sync / f"ready-{index}").touch()
        deadline = time.monotonic() + 200
        while len(list(sync.glob("ready-*"))) < workers and time.monotonic() < deadline:
            time.sleep(0.02)
        for _ in range(1000):  # bounded: the queue holds < 200 entries
            leased = hub.queue.lease(3)
            if not leased:
                break
            for entry in leased:
                result["leased"].append(entry.entry_id)
                if entry.task_id:
                    hub.tasks.set_status(entry.task_id, "in-progress")
                    hub.tasks.set_status(entry.task_id, "done")
                hub.queue.complete(entry.entry_id, "completed")
except BaseException as exc:
    result["error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(result))
"""


def test_eight_processes_lose_nothing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    home = tmp_path / "home"
    sync = tmp_path / "sync"
    sync.mkdir()
    env = {**os.environ, "ANIMUS_HOME": str(home)}
    init = subprocess.run(
        [sys.executable, "-m", "animus_cli", "--project-root", str(project), "init"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert init.returncode == 0, init.stderr
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                str(i),
                str(project),
                str(sync),
                str(WORKERS),
                str(TASKS_PER_WORKER),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(WORKERS)
    ]
    # A ninth writer through the real CLI while the workers run.
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "animus_cli",
            "--json",
            "--project-root",
            str(project),
            "queue",
            "enqueue",
            "--subject",
            "custom:from-cli",
            "--workflow-ref",
            "standard",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=env,
    )
    results = []
    try:
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
            assert proc.returncode == 0, stderr
            results.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["ok"] is True
    errors = [r["error"] for r in results if "error" in r]
    assert not errors, errors

    created = [t for r in results for t in r["created"]]
    assert len(created) == WORKERS * TASKS_PER_WORKER
    assert len(set(created)) == len(created)  # no id handed out twice
    # exactly one worker queued the shared subject
    assert sum(r["conflicts"] for r in results) == WORKERS - 1
    leased = [e for r in results for e in r["leased"]]
    assert len(leased) == len(set(leased))  # no entry leased twice

    os.environ["ANIMUS_HOME"] = str(home)
    from animus_core.hub import ServiceHub

    with ServiceHub(project, env=env) as hub:
        counts = hub.tasks.count_by_status()
        stats = hub.queue.stats()
        all_entries = hub.queue.list("all", limit=1000)
    assert {k: v for k, v in counts.items() if v} == {"done": WORKERS * TASKS_PER_WORKER}
    # the CLI entry may have been enqueued after the workers drained the queue
    total = WORKERS * TASKS_PER_WORKER + 2
    assert all_entries.total == total
    assert stats.completed + stats.pending == total
    assert stats.completed == len(leased)
    assert stats.assigned == 0
    assert stats.held == 0
    assert {e.subject_key for e in all_entries.entries} >= set(created) | {"shared"}
