"""8 real processes create, update, move and link tasks on one project at once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from animus_core.hub import ServiceHub
from animus_core.tasks import TaskFilter

WORKERS = 8
PER_WORKER = 12

_WORKER = textwrap.dedent(
    """
    import sys
    from animus_core.hub import ServiceHub

    worker = int(sys.argv[2])
    with ServiceHub(sys.argv[1]) as hub:
        made = []
        for n in range(int(sys.argv[3])):
            task = hub.tasks.create(title=f"w{worker}-{n}", tags=[f"w{worker}"])
            made.append(task.id)
            hub.tasks.update(task.id, description=f"by worker {worker}")
            hub.tasks.set_status(task.id, "ready")
            if n % 2:
                hub.tasks.set_status(task.id, "in-progress")
            if n:
                hub.tasks.add_dependency(task.id, made[n - 1])
        hub.requirements.create(title=f"req of worker {worker}")
    print(",".join(made))
    """
)


def test_eight_processes_lose_nothing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = {**os.environ, "ANIMUS_HOME": str(tmp_path / "home")}
    with ServiceHub(project, env=env) as hub:
        hub.db  # noqa: B018 - create the database before the race (bootstrap is tested elsewhere)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(project), str(w), str(PER_WORKER)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(WORKERS)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append(out.strip().split(","))
    with ServiceHub(project, env=env) as hub:
        all_ids = [i for ids in outputs for i in ids]
        assert len(set(all_ids)) == WORKERS * PER_WORKER
        page = hub.tasks.list(TaskFilter(limit=1000, sort="id"))
        assert page.total == WORKERS * PER_WORKER
        assert sorted(t.id for t in page.items) == sorted(all_ids)
        counts = hub.tasks.count_by_status()
        assert counts["in-progress"] == WORKERS * (PER_WORKER // 2)
        assert counts["ready"] == WORKERS * (PER_WORKER - PER_WORKER // 2)
        for w, ids in enumerate(outputs):
            tagged = hub.tasks.list(TaskFilter(tags=(f"w{w}",), limit=1000, sort="id"))
            assert [t.id for t in tagged.items] == ids
            for n, task_id in enumerate(ids):
                task = hub.tasks.get(task_id)
                assert task.description == f"by worker {w}"
                assert task.blocking_dependency_ids() == ([ids[n - 1]] if n else [])
                # create + update + ready (+ in-progress) (+ dependency)
                assert task.metadata.version == 3 + (n % 2) + (1 if n else 0)
        assert hub.requirements.list().total == WORKERS
