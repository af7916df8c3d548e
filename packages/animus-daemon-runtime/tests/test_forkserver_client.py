"""The daemon's forkserver client: exit codes through the forkserver, an orphaned child
followed by pid, a forkserver that cannot start (twice: fork mode off), and the process
manager falling back to a fresh process per run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from animus_daemon_runtime._proc import same_process_alive
from animus_daemon_runtime.bus import EventBus
from animus_daemon_runtime.forkserver_client import ForkServer, ForkServerError
from animus_daemon_runtime.runner_process import ProcessManager, RunnerExit, read_runner_record
from animus_protocol.paths import ScopePaths

pytestmark = pytest.mark.timeout(120)

RUNNER = [sys.executable, "-m", "animus_workflow_runner.cli"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ANIMUS_WORKFLOW_RUNNER_BIN"}
    env["ANIMUS_HOME"] = str(tmp_path / "home")
    return env


def test_exit_codes_come_back_through_the_forkserver(tmp_path: Path) -> None:
    async def scenario() -> tuple[int | None, int | None, int]:
        server = ForkServer(RUNNER, stderr_path=tmp_path / "fs.log", env=_env(tmp_path))
        try:
            ok = await server.spawn(
                ["--version"], cwd=tmp_path, env=_env(tmp_path), log=tmp_path / "a.log"
            )
            bad = await server.spawn(
                ["execute", "--project-root", str(tmp_path / "nope"), "--task-id", "T"],
                cwd=tmp_path,
                env=_env(tmp_path),
                log=tmp_path / "b.log",
            )
            codes = (await ok.wait(), await bad.wait())
            return codes[0], codes[1], server.starts_total
        finally:
            await server.close()

    ok, bad, starts = asyncio.run(scenario())
    assert (ok, bad, starts) == (0, 2, 1)
    assert "animus-workflow-runner" in (tmp_path / "a.log").read_text()
    assert "is not a directory" in (tmp_path / "b.log").read_text()


def test_a_child_outlives_a_killed_forkserver_and_is_followed_by_pid(tmp_path: Path) -> None:
    """SIGKILL the forkserver while its child runs: the child's waiter polls the pid and
    ends (exit code unknown) when the child does; the next spawn starts a new forkserver."""
    # The child's log is a FIFO: opening it blocks until we open the reading end, which
    # keeps the child alive (after it led its session, so the forkserver has answered).
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)

    async def scenario() -> tuple[int | None, int]:
        server = ForkServer(RUNNER, stderr_path=tmp_path / "fs.log", env=_env(tmp_path))
        try:
            child = await server.spawn(["--help"], cwd=tmp_path, env=_env(tmp_path), log=fifo)
            assert server.pid is not None
            os.kill(server.pid, signal.SIGKILL)
            await asyncio.sleep(0.3)
            assert same_process_alive(child.pid, child.start_time)  # blocked on the FIFO
            reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                code = await asyncio.wait_for(child.wait(), 30)
            finally:
                os.close(reader)
            again = await server.spawn(
                ["--version"], cwd=tmp_path, env=_env(tmp_path), log=tmp_path / "c.log"
            )
            assert await again.wait() == 0
            return code, server.starts_total
        finally:
            await server.close()

    code, starts = asyncio.run(scenario())
    assert code is None  # its parent died: nobody could report the exit status
    assert starts == 2


def test_a_forkserver_that_cannot_start_turns_fork_mode_off(tmp_path: Path) -> None:
    broken = tmp_path / "broken-runner"
    broken.write_text("#!/bin/sh\necho not json\nexit 3\n")
    broken.chmod(0o755)

    async def scenario() -> list[str]:
        server = ForkServer([str(broken)], stderr_path=tmp_path / "fs.log", env=_env(tmp_path))
        errors = []
        for _ in range(3):
            with pytest.raises(ForkServerError) as info:
                await server.spawn(["--version"], cwd=tmp_path, env={}, log=tmp_path / "x.log")
            errors.append(str(info.value))
        assert server.disabled_reason is not None
        return errors

    first, second, third = asyncio.run(scenario())
    assert "did not start" in first
    assert "did not start" in second
    assert third.startswith("fork mode off (spawning runners instead)")


def test_the_process_manager_spawns_when_the_forkserver_fails(tmp_path: Path) -> None:
    """Fork mode with a forkserver that cannot start: the run is spawned instead, and the
    fallback is counted and explained."""
    root = tmp_path / "project"
    root.mkdir()
    env = _env(tmp_path)
    paths = ScopePaths.for_project(root, env)
    broken = tmp_path / "broken-runner"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    exits: list[RunnerExit] = []

    async def on_exit(exit: RunnerExit) -> None:
        exits.append(exit)

    async def scenario() -> ProcessManager:
        pm = ProcessManager(
            paths, root, EventBus(), on_event=lambda _w, _e: None, on_exit=on_exit, env=env
        )
        pm.forkserver = ForkServer([str(broken)], stderr_path=tmp_path / "fs.log", env=env)
        handle = await pm.spawn(
            workflow_id="wf-fallback",
            subject="task:TASK-404",
            subject_key="TASK-404",
            entry_id=None,
            workflow_ref=None,
        )
        await asyncio.wait_for(handle.finished.wait(), 60)
        await pm.close()
        return pm

    pm = asyncio.run(scenario())
    assert pm.fork_fallbacks == 1
    assert pm.last_fork_error is not None
    assert "did not start" in pm.last_fork_error
    record = read_runner_record(paths, "wf-fallback")
    assert record is not None
    assert record.launch == "spawn"
    # A fresh process ran the real runner: a missing task is invalid input (exit 2).
    assert [e.exit_code for e in exits] == [2]


def test_a_warm_up_cancelled_mid_start_leaves_no_forkserver(tmp_path: Path) -> None:
    """A daemon stopping while its forkserver still imports: the half-started process is
    killed and reaped, not left waiting on a pipe."""

    def forkservers() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                    cmdline = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                fields = stat.rsplit(")", 1)[1].split()
                if int(fields[1]) == os.getpid() and b"forkserver" in cmdline and fields[0] != "Z":
                    found.append(int(entry.name))
        return found

    async def scenario() -> tuple[list[int], list[int], bool]:
        server = ForkServer(RUNNER, stderr_path=tmp_path / "fs.log", env=_env(tmp_path))
        task = asyncio.create_task(server.warm())
        seen: list[int] = []
        for _ in range(200):  # the process appears within a few ms; its imports take ~1 s
            await asyncio.sleep(0.005)
            seen = forkservers()
            if seen:
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return seen, forkservers(), server.alive

    seen, left, alive = asyncio.run(scenario())
    assert len(seen) == 1
    assert left == []
    assert alive is False


def test_health_says_when_fork_mode_was_given_up(tmp_path: Path) -> None:
    """Two failed forkserver starts turn fork mode off: daemon/health names it (runs still
    run, spawned, but each pays the runner's start-up again)."""
    from _support import Project

    from animus_daemon_runtime._control_methods import ControlMethods
    from animus_daemon_runtime.daemon import Daemon, DaemonOptions

    project = Project(tmp_path)
    broken = tmp_path / "broken-runner"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)

    async def scenario() -> dict[str, Any]:
        daemon = Daemon(project.root, DaemonOptions(env=project.env, control_socket=False))
        daemon.pm.forkserver = ForkServer(
            [str(broken)], stderr_path=tmp_path / "fs.log", env=project.env
        )
        daemon.pm.launch = "fork"
        methods = ControlMethods(daemon, None)  # type: ignore[arg-type]
        healthy = await methods.call(None, 1, "daemon/health", None)  # type: ignore[arg-type]
        assert not any("forkserver" in r for r in healthy["degraded_reasons"])
        for _ in range(2):
            assert await daemon.pm.forkserver.warm() is False
        report: dict[str, Any] = await methods.call(None, 2, "daemon/health", None)  # type: ignore[arg-type]
        daemon.hub.close()
        return report

    report = asyncio.run(scenario())
    reasons = [r for r in report["degraded_reasons"] if r.startswith("runner forkserver:")]
    assert len(reasons) == 1
    assert "fork mode off (spawning runners instead)" in reasons[0]
    assert report["status"] == "degraded"
