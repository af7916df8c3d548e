"""Daemon lifecycle on disk: the scope lock, the pid file, stale detection, detached start.

One daemon per scope: ``daemon/daemon.lock`` is held for the daemon's lifetime (with a fresh
fencing token from ``workflow.db``), and ``daemon/daemon.pid`` records pid + process start
time so a reused pid is never mistaken for the daemon.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from animus_daemon_runtime._proc import same_process_alive
from animus_daemon_runtime.client import daemon_reachable
from animus_protocol.envelope import ConflictError, PermissionDeniedError, UnavailableError
from animus_protocol.paths import ScopePaths
from animus_store import write_json_atomic

if TYPE_CHECKING:
    from animus_daemon_runtime.daemon import Daemon
    from animus_store import ScopeClaim

__all__ = [
    "DaemonPidInfo",
    "acquire_scope",
    "check_scope_permissions",
    "read_pid_info",
    "release_scope",
    "running_daemon",
    "signal_daemon",
    "start_detached",
    "wait_for_exit",
]


@dataclass(frozen=True)
class DaemonPidInfo:
    pid: int
    start_time: str | None
    started_at: str | None
    control_sock: str | None
    stale: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "start_time": self.start_time,
            "started_at": self.started_at,
            "control_sock": self.control_sock,
            "stale": self.stale,
        }


def read_pid_info(paths: ScopePaths) -> DaemonPidInfo | None:
    """The pid file, with ``stale`` set when that process is gone (or is another process)."""
    try:
        raw = json.loads(paths.daemon_pid.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("pid"), int):
        return None
    pid = int(raw["pid"])
    start = raw.get("start_time")
    alive = same_process_alive(pid, start if isinstance(start, str) else None)
    return DaemonPidInfo(pid, start, raw.get("started_at"), raw.get("control_sock"), not alive)


def running_daemon(paths: ScopePaths) -> DaemonPidInfo | None:
    info = read_pid_info(paths)
    return info if info is not None and not info.stale else None


def check_scope_permissions(paths: ScopePaths) -> None:
    """Refuse to serve a control socket from a directory others can write or that is not ours.

    A socket file left at the path that is not a socket (or is someone else's) is refused too;
    a stale socket of ours is removed.
    """
    uid = os.getuid()
    root = paths.root
    st = root.stat()
    if st.st_uid != uid:
        raise PermissionDeniedError(
            f"the scope directory {root} belongs to uid {st.st_uid}, not to this user ({uid})",
            hint=f"run the daemon as the owner of {root}",
        )
    if st.st_mode & 0o022:
        raise PermissionDeniedError(
            f"the scope directory {root} is writable by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):o}); the control socket would not be private",
            hint=f"chmod 700 {root}",
        )
    sock = paths.control_sock
    try:
        sst = os.lstat(sock)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(sst.st_mode):
        raise PermissionDeniedError(
            f"{sock} exists and is not a socket (mode {stat.filemode(sst.st_mode)})",
            hint=f"move it away (it is not Animus') and start again: rm {sock}",
        )
    if sst.st_uid != uid:
        raise PermissionDeniedError(
            f"the control socket {sock} belongs to uid {sst.st_uid}",
            hint=f"remove it as its owner: rm {sock}",
        )


def acquire_scope(daemon: Daemon) -> ScopeClaim:
    """Take the scope lock and write the pid file; a running daemon is reported by pid."""
    from animus_store import LockTimeoutError, claim_scope

    paths = daemon.paths
    paths.daemon_dir.mkdir(parents=True, exist_ok=True)
    try:
        claim = claim_scope(paths.daemon_lock, daemon.hub.db, f"daemon pid {os.getpid()}")
    except LockTimeoutError:
        info = read_pid_info(paths)
        pid = f" (pid {info.pid})" if info is not None and not info.stale else ""
        raise ConflictError(
            f"a daemon is already running for this project{pid}",
            details={"running": info.to_dict() if info else None, "scope": paths.scope},
            hint="see it with 'animus daemon status'; stop it with 'animus daemon stop'",
        ) from None
    try:
        check_scope_permissions(paths)
    except BaseException:
        claim.release()
        raise
    write_json_atomic(paths.daemon_pid, daemon.identity())
    return claim


def release_scope(daemon: Daemon, claim: ScopeClaim | None) -> None:
    paths = daemon.paths
    info = read_pid_info(paths)
    if info is not None and info.pid == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            paths.daemon_pid.unlink()
    if claim is not None:
        with contextlib.suppress(Exception):
            claim.release()


def start_detached(
    project_root: Path,
    paths: ScopePaths,
    extra_args: list[str],
    *,
    env: dict[str, str] | None = None,
    ready_timeout: float = 15.0,
) -> DaemonPidInfo:
    """Start ``animus daemon run`` in its own session, output to ``daemon/daemon.log``, and
    wait until it has written its pid file and bound its socket (or died)."""
    paths.daemon_dir.mkdir(parents=True, exist_ok=True)
    log = open(paths.daemon_log, "ab")  # noqa: SIM115 - handed to the child
    argv = [
        sys.executable,
        "-m",
        "animus_cli",
        "--project-root",
        str(project_root),
        "daemon",
        "run",
        *extra_args,
    ]
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(project_root),
            env=dict(os.environ if env is None else env),
            start_new_session=True,
            close_fds=True,
        )
    finally:
        log.close()
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        code = proc.poll()
        info = read_pid_info(paths)
        ours = info is not None and info.pid == proc.pid and not info.stale
        # A socket file left by a killed daemon exists before ours is bound: ask it.
        if info is not None and ours and daemon_reachable(paths.control_sock):
            return info
        if code is not None:
            tail = _tail(paths.daemon_log)
            raise UnavailableError(
                f"the daemon exited at start (code {code}): {tail}",
                details={"exit_code": code, "log": str(paths.daemon_log)},
                hint=f"see {paths.daemon_log}",
            )
        time.sleep(0.02)
    raise UnavailableError(
        f"the daemon did not come up within {ready_timeout:g} s",
        details={"pid": proc.pid, "log": str(paths.daemon_log)},
        hint=f"see {paths.daemon_log}",
    )


def _tail(path: Path, size: int = 1500) -> str:
    try:
        data = path.read_bytes()[-size:]
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace").strip()


def signal_daemon(info: DaemonPidInfo, sig: int = signal.SIGTERM) -> bool:
    if info.stale:
        return False
    try:
        os.kill(info.pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_for_exit(info: DaemonPidInfo, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not same_process_alive(info.pid, info.start_time):
            return True
        time.sleep(0.05)
    return not same_process_alive(info.pid, info.start_time)
