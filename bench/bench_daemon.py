"""Benchmark for the daemon: dispatch latency, drain throughput, memory.

* dispatch latency: from ``queue/enqueue`` returning (over the control socket, which nudges
  the scheduler) to the runner process starting (its first instruction is a shell ``date``
  that records the time, so process creation is included, interpreter start-up is not);
* drain throughput: 200 queued three-phase workflows with pool 8, (a) with a contract-only
  runner (three instant phases; bounds the daemon's own overhead plus one Python start-up per
  run) and (b) with the real ``animus-workflow-runner`` and the scripted mock provider, its
  runners forked by the daemon's forkserver (the default) and, for comparison, spawned as a
  fresh process each; besides wall time it reports the CPU of the whole process tree per
  workflow, which says what bounds throughput on a machine that has other work;
* memory: the daemon's RSS when idle, and per active run (daemon growth plus each runner's
  own RSS) with 8 runs parked in a phase.

Prints the figures and saves ``bench/results/daemon.json``; ``ANIMUS_BENCH_QUICK=1`` runs
smaller counts, ``BENCH_POOL=N`` another pool size.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animus_core.hub import ServiceHub
from animus_daemon_runtime.client import ControlClient
from animus_plugin_protocol.testing import children_of
from animus_plugin_protocol.testing import wait_until as poll_until
from animus_workflow_runner.testing import three_phase_workflows

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
RESULTS = ROOT / "results" / "daemon.json"
FAKE_RUNNER = REPO / "packages" / "animus-daemon-runtime" / "tests" / "fake_runner.py"
LATENCY_SAMPLES = 15 if QUICK else 40
DRAIN = 40 if QUICK else 200
REAL_DRAIN = 16 if QUICK else 200
SPAWN_DRAIN = 8 if QUICK else 40
FIRST_EVENT_SAMPLES = 5 if QUICK else 15
POOL = int(os.environ.get("BENCH_POOL", "8"))

MOCK_WORKFLOWS = three_phase_workflows()


def wait_until(predicate: Callable[[], Any], timeout: float) -> Any:
    """The workspace's bounded poll, at 5 ms (latency figures need the resolution)."""
    return poll_until(predicate, timeout, "benchmark condition", interval=0.005)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Bench:
    def __init__(
        self, tmp: Path, runner_bin: str | None, env: dict[str, str] | None = None
    ) -> None:
        self.root = tmp / "proj"
        self.root.mkdir(exist_ok=True)
        self.env = {**os.environ, "ANIMUS_HOME": str(tmp / "home"), **(env or {})}
        if runner_bin is not None:
            self.env["ANIMUS_WORKFLOW_RUNNER_BIN"] = runner_bin
        else:
            self.env.pop("ANIMUS_WORKFLOW_RUNNER_BIN", None)
        self.hub = ServiceHub(self.root, env=self.env)
        self.hub.ensure_ready()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "animus_daemon_runtime",
                "--project-root",
                str(self.root),
                *args,
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def up() -> bool:
            try:
                with self.client() as c:
                    c.call("daemon/status")
            except OSError:
                return False
            return True

        wait_until(up, 30)

    def client(self) -> ControlClient:
        return ControlClient(self.hub.paths.control_sock, timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def bench_latency(tmp: Path) -> dict[str, Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    trace = tmp / "spawned.txt"
    wrapper = tmp / "runner.sh"
    wrapper.write_text(
        f'#!/bin/sh\necho "$(date +%s.%N)" >> {trace}\nexec {sys.executable} {FAKE_RUNNER} "$@"\n'
    )
    wrapper.chmod(0o755)
    bench = Bench(tmp, str(wrapper), {"FAKE_RUNNER_PHASE_SECS": "0"})
    ids = [bench.hub.tasks.create(title=f"t{i}", status="ready").id for i in range(LATENCY_SAMPLES)]
    bench.start("--pool-size", str(POOL), "--interval-secs", "60")
    samples: list[float] = []
    try:
        with bench.client() as c:
            for n, task_id in enumerate(ids):
                c.call("queue/enqueue", {"task_id": task_id})
                returned = time.time()
                wait_until(
                    lambda n=n: trace.exists() and len(trace.read_text().splitlines()) > n, 30
                )
                started = float(trace.read_text().splitlines()[n])
                samples.append((started - returned) * 1000)
                wait_until(lambda n=n: c.call("queue/stats")["done_recent"] > n, 60)
    finally:
        bench.stop()
    samples.sort()
    return {
        "samples": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 2),
        "max_ms": round(samples[-1], 2),
        "target_p50_ms": 50,
    }


def bench_first_event(tmp: Path, launch: str) -> dict[str, Any]:
    """From ``queue/enqueue`` returning to the real runner's ``workflow_started`` event (its
    run recorded, its first event written): what an operator waits for, with forked and
    with spawned runners."""
    from animus_protocol.timeutil import parse_rfc3339
    from animus_workflow_runner.testing import make_workflow_project

    project = make_workflow_project(tmp, MOCK_WORKFLOWS)
    bench = Bench(
        tmp, None, {k: v for k, v in project.env.items() if k.startswith(("GIT_", "ANIMUS_MOCK"))}
    )
    bench.root = project.root
    bench.hub = ServiceHub(project.root, env=bench.env)
    bench.hub.ensure_ready()
    bench.hub.paths.pm_config.parent.mkdir(parents=True, exist_ok=True)
    bench.hub.paths.pm_config.write_text(json.dumps({"runner_launch": launch}))
    samples: list[float] = []
    bench.start("--interval-secs", "60")
    try:
        with bench.client() as c:
            if launch == "fork":
                wait_until(lambda: c.call("daemon/metrics")["gauges"].get("forkserver_up"), 60)
            for n in range(FIRST_EVENT_SAMPLES):
                task_id = bench.hub.tasks.create(title=f"t{n}", status="ready").id
                c.call("queue/enqueue", {"task_id": task_id})
                returned = time.time()

                def started(task_id: str = task_id) -> float | None:
                    for run in bench.hub.runs.list(limit=5).runs:
                        if run.subject_key != task_id:
                            continue
                        path = bench.hub.paths.run_dir(run.id) / "workflow-events.jsonl"
                        for line in path.read_text().splitlines() if path.exists() else []:
                            event = json.loads(line)
                            if event.get("kind") == "workflow_started":
                                return parse_rfc3339(event["ts"]).timestamp()
                    return None

                at = wait_until(started, 60)
                samples.append((at - returned) * 1000)
                wait_until(lambda n=n: c.call("queue/stats")["done_recent"] > n, 60)
    finally:
        bench.stop()
    samples.sort()
    return {
        "launch": launch,
        "samples": len(samples),
        "p50_ms": round(statistics.median(samples), 1),
        "max_ms": round(samples[-1], 1),
    }


def bench_drain(tmp: Path, count: int, *, real: bool, launch: str = "fork") -> dict[str, Any]:
    if real:
        from animus_workflow_runner.testing import make_workflow_project

        project = make_workflow_project(tmp, MOCK_WORKFLOWS)
        bench = Bench(
            tmp,
            None,
            {k: v for k, v in project.env.items() if k.startswith(("GIT_", "ANIMUS_MOCK"))},
        )
        bench.root = project.root
        bench.hub = ServiceHub(project.root, env=bench.env)
        bench.hub.ensure_ready()
    else:
        bench = Bench(tmp, f"{sys.executable} {FAKE_RUNNER}", {"FAKE_RUNNER_PHASE_SECS": "0"})
    bench.hub.paths.pm_config.parent.mkdir(parents=True, exist_ok=True)
    bench.hub.paths.pm_config.write_text(json.dumps({"runner_launch": launch}))
    ids = [bench.hub.tasks.create(title=f"t{i}", status="ready").id for i in range(count)]
    for task_id in ids:
        bench.hub.queue.enqueue_subject("task", task_id)
    before = os.times()
    t0 = time.monotonic()
    bench.start(
        "--pool-size", str(POOL), "--max-tasks-per-tick", str(POOL), "--interval-secs", "60"
    )
    try:
        with bench.client() as c:
            wait_until(lambda: c.call("queue/stats")["done_recent"] >= count, 1800)
            elapsed = time.monotonic() - t0
            metrics = c.call("daemon/metrics")
        assert bench.proc is not None
        daemon_cpu = cpu_seconds(bench.proc.pid)
    finally:
        bench.stop()
    # Every process of the tree (daemon, forkserver, runners, providers) is reaped by its
    # parent, so the daemon's exit brings their CPU time into ours.
    after = os.times()
    tree_cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    completed = metrics["counters"].get("workflow_runs_total{status=completed}", 0)
    return {
        "workflows": count,
        "pool": POOL,
        "seconds": round(elapsed, 2),
        "workflows_per_second": round(count / elapsed, 2),
        "completed": completed,
        "phases": metrics["counters"].get("phase_executions_total{status=success}")
        or metrics["counters"].get("phase_executions_total{status=advance}"),
        "target_workflows_per_second": 5,
        "daemon_cpu_seconds": round(daemon_cpu, 2),
        "daemon_cpu_ms_per_workflow": round(1000 * daemon_cpu / count, 1),
        "machine_cpu_seconds_available": round(elapsed * (os.cpu_count() or 1), 1),
        "tree_cpu_seconds": round(tree_cpu, 2),
        "tree_cpu_ms_per_workflow": round(1000 * tree_cpu / count, 1),
        # What the CPU alone allows on this machine: cores / CPU per workflow.
        "cpu_bound_workflows_per_second": round((os.cpu_count() or 1) * count / tree_cpu, 2)
        if tree_cpu
        else None,
        "runner_launch": launch,
        "gauges": {k: v for k, v in metrics["gauges"].items() if "fork" in k},
    }


def bench_memory(tmp: Path) -> dict[str, Any]:
    bench = Bench(
        tmp,
        f"{sys.executable} {FAKE_RUNNER}",
        {"FAKE_RUNNER_PHASE_SECS": "0", "FAKE_RUNNER_HANG_PHASE": "0"},
    )
    ids = [bench.hub.tasks.create(title=f"t{i}", status="ready").id for i in range(POOL)]
    bench.start("--pool-size", str(POOL), "--interval-secs", "60")
    try:
        assert bench.proc is not None
        time.sleep(1.0)
        idle = rss_kb(bench.proc.pid)
        with bench.client() as c:
            for task_id in ids:
                c.call("queue/enqueue", {"task_id": task_id})
            wait_until(lambda: len(c.call("daemon/status")["active_runs"]) == POOL, 60)
            wait_until(lambda: len(bench.hub.runs.active()) == POOL, 60)
            time.sleep(1.0)
            busy = rss_kb(bench.proc.pid)
            from animus_daemon_runtime.runner_process import read_runner_record

            runner_rss = []
            for run in bench.hub.runs.active():
                rec = read_runner_record(bench.hub.paths, run.id)
                if rec is not None:
                    runner_rss.append(rss_kb(rec.pid))
    finally:
        bench.stop()
    return {
        "daemon_idle_rss_mb": round(idle / 1024, 1),
        "daemon_rss_with_8_active_mb": round(busy / 1024, 1),
        "daemon_growth_per_active_run_kb": round((busy - idle) / POOL),
        "contract_runner_rss_mb": round(statistics.mean(runner_rss) / 1024, 1)
        if runner_rss
        else None,
    }


def _smaps_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                out[key] = int(rest.split()[0])
    except OSError:
        pass
    return out


def bench_memory_forked(tmp: Path) -> dict[str, Any]:
    """RSS and PSS (shared pages split between sharers) of 8 forked real runners parked in
    an agent phase, each with its mock provider process, and of the forkserver."""
    from animus_workflow_runner.testing import make_workflow_project

    project = make_workflow_project(tmp, MOCK_WORKFLOWS)
    project.script("plan", {"match": {"phase": "plan"}, "steps": [{"sleep": 60}, {"decision": {}}]})
    bench = Bench(
        tmp, None, {k: v for k, v in project.env.items() if k.startswith(("GIT_", "ANIMUS_MOCK"))}
    )
    bench.root = project.root
    bench.hub = ServiceHub(project.root, env=bench.env)
    bench.hub.ensure_ready()
    ids = [bench.hub.tasks.create(title=f"t{i}", status="ready").id for i in range(POOL)]
    for task_id in ids:
        bench.hub.queue.enqueue_subject("task", task_id)
    bench.start("--pool-size", str(POOL), "--max-tasks-per-tick", str(POOL))
    try:
        from animus_daemon_runtime.runner_process import read_runner_record

        def parked() -> list[int]:
            runs = bench.hub.runs.active()
            pids = []
            for run in runs:
                rec = read_runner_record(bench.hub.paths, run.id)
                if rec is not None and children_of(rec.pid):
                    pids.append(rec.pid)
            return pids if len(pids) == POOL else []

        runners = wait_until(parked, 120)
        time.sleep(1.0)
        assert bench.proc is not None
        (forkserver,) = [p for p in children_of(bench.proc.pid) if p not in runners]
        runner_mem = [_smaps_kb(pid) for pid in runners]
        provider_mem = [_smaps_kb(child) for pid in runners for child in children_of(pid)]
        server_mem = _smaps_kb(forkserver)
    finally:
        bench.stop()

    def mean_mb(rows: list[dict[str, int]], key: str) -> float:
        return round(statistics.mean(r.get(key, 0) for r in rows) / 1024, 1)

    return {
        "forked_runner_rss_mb": mean_mb(runner_mem, "Rss"),
        "forked_runner_pss_mb": mean_mb(runner_mem, "Pss"),
        "mock_provider_rss_mb": mean_mb(provider_mem, "Rss"),
        "mock_provider_pss_mb": mean_mb(provider_mem, "Pss"),
        "forkserver_rss_mb": round(server_mem.get("Rss", 0) / 1024, 1),
        "forkserver_pss_mb": round(server_mem.get("Pss", 0) / 1024, 1),
        "per_active_run_pss_mb": round(
            mean_mb(runner_mem, "Pss") + mean_mb(provider_mem, "Pss"), 1
        ),
    }


def main() -> None:
    results: dict[str, Any] = {"quick": QUICK, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="animus-bench-daemon-") as t:
        results["dispatch_latency"] = bench_latency(Path(t) / "lat")
    print(f"dispatch latency (enqueue -> runner process): {results['dispatch_latency']}")
    results["first_runner_event"] = {}
    for launch in ("fork", "spawn"):
        with tempfile.TemporaryDirectory(prefix="animus-bench-daemon-") as t:
            results["first_runner_event"][launch] = bench_first_event(Path(t), launch)
    print(f"enqueue -> workflow_started (real runner): {results['first_runner_event']}")
    with tempfile.TemporaryDirectory(prefix="animus-bench-daemon-") as t:
        results["drain_contract_runner"] = bench_drain(Path(t), DRAIN, real=False)
    print(f"drain, contract runner: {results['drain_contract_runner']}")
    if (
        shutil.which("animus-workflow-runner")
        or (Path(sys.executable).parent / "animus-workflow-runner").exists()
    ):
        with tempfile.TemporaryDirectory(prefix="animus-bench-daemon-") as t:
            results["drain_real_runner_mock_provider"] = bench_drain(Path(t), REAL_DRAIN, real=True)
        print(f"drain, real runner + mock provider: {results['drain_real_runner_mock_provider']}")
        # The same with a fresh process per runner (runner_launch: spawn), fewer runs: the
        # figure the forkserver is measured against.
        with tempfile.TemporaryDirectory(prefix="animus-bench-daemon-") as t:
            results["drain_real_runner_spawn"] = bench_drain(
                Path(t), SPAWN_DRAIN, real=True, launch="spawn"
            )
        print(f"drain, real runner spawned per run: {results['drain_real_runner_spawn']}")
    with tempfile.TemporaryDirectory(prefix="animus-bench-daemon-") as t:
        results["memory"] = bench_memory(Path(t))
    with tempfile.TemporaryDirectory(prefix="animus-bench-daemon-") as t:
        results["memory"].update(bench_memory_forked(Path(t)))
    print(f"memory: {results['memory']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
