"""``animus-workflow-runner forkserver``: a warm parent that forks one runner per request.

Starting a runner costs ~0.6 s of CPU in imports (pydantic models, the git layer, the
plugin host) before it does anything; the work of a short three-phase run is a tenth of
that. The daemon therefore keeps one forkserver: it imports the runner stack once and then
forks a child per dispatch. A child is the same ``execute`` as a fresh process (its own
session, working directory, environment, stdin from ``/dev/null`` and stdout/stderr to the
run's log file); only the imports are shared, copy-on-write.

The wire is NDJSON over the forkserver's stdin and stdout:

* it starts with ``{"ready": true, "pid": P, "version": V}`` once the imports are done;
* ``{"id": N, "argv": [...], "cwd": D, "env": {...}, "log": F}`` forks ``execute`` with
  ``argv`` (what follows the program name) and answers ``{"id": N, "pid": C}`` or
  ``{"id": N, "error": "..."}``;
* every child's end is reported as ``{"exit": C, "code": K}`` (``K`` negative: killed by
  signal ``-K``).

The forkserver is single-threaded (a fork from a threaded process is unsafe), ignores
``SIGINT`` (a terminal's Ctrl-C belongs to the daemon) and exits when its stdin closes:
its children run in their own sessions and outlive it, exactly like spawned runners
outlive a daemon that died.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pkgutil
import selectors
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["PRELOAD_PACKAGES", "preload", "serve"]

# Every module of these packages is imported before the first fork (their ``testing``
# helpers and ``__main__`` excepted): what a run needs is already in memory.
PRELOAD_PACKAGES = (
    "animus_protocol",
    "animus_plugin_protocol",
    "animus_workflow_runner",
    "animus_core",
    "animus_agent_runner",
    "animus_session_host",
    "animus_plugin_host",
    "animus_config",
    "animus_store",
)
_SKIP = frozenset({"testing", "__main__", "forkserver", "cli"})
_MAX_LINE = 4 * 1024 * 1024


def _modules(package: str) -> Iterator[str]:
    mod = importlib.import_module(package)
    yield package
    for info in pkgutil.walk_packages(getattr(mod, "__path__", []), prefix=package + "."):
        if info.name.rsplit(".", 1)[-1] in _SKIP:
            continue
        yield info.name


def preload(packages: Sequence[str] = PRELOAD_PACKAGES) -> list[str]:
    """Import every runner module once and build every deferred pydantic model; returns the
    names that failed (never raises)."""
    failed: list[str] = []
    for package in packages:
        try:
            names = list(_modules(package))
        except Exception:  # a missing optional package: its children are not preloaded
            failed.append(package)
            continue
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:
                failed.append(name)
    _build_deferred_models()
    return failed


def _build_deferred_models() -> int:
    """Wire models are declared with ``defer_build`` (a plugin process builds only the few
    it uses); here, once, every loaded one is built so that no forked child pays for it."""
    from pydantic import BaseModel

    built = 0
    pending: list[type[BaseModel]] = list(BaseModel.__subclasses__())
    seen: set[type[BaseModel]] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        if cls.__pydantic_complete__ or getattr(cls, "__pydantic_generic_metadata__", {}).get(
            "parameters"
        ):
            continue
        with contextlib.suppress(Exception):
            cls.model_rebuild()
            built += 1
    return built


def _child(request: dict[str, Any], keep: Sequence[int], ready_fd: int) -> int:
    """In the forked child: become a fresh ``execute`` process and run it."""
    os.setsid()
    os.write(ready_fd, b"s")
    os.close(ready_fd)
    # The dispositions a fresh interpreter has: Ctrl-C raises KeyboardInterrupt, a write to
    # a closed pipe or socket raises (a daemon that died must not kill its runners with
    # SIGPIPE), SIGTERM and SIGCHLD as the kernel defines them.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    for fd in keep:
        with contextlib.suppress(OSError):
            os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    log = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    for fd in (null, log):
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    argv = list(request["argv"])
    sys.argv = ["animus-workflow-runner", *argv]
    from animus_workflow_runner.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    return code


def _request_problem(request: dict[str, Any]) -> str | None:
    """What is wrong with a fork request (None: nothing). Every field is required: a child
    must never inherit the forkserver's own directory or environment by omission."""
    argv = request.get("argv")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return "a request needs 'argv': a list of strings"
    for key in ("cwd", "log"):
        if not isinstance(request.get(key), str) or not request[key]:
            return f"a request needs '{key}': a non-empty path"
    env = request.get("env")
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        return "a request needs 'env': an object of strings"
    return None


class _Server:
    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd = rfd
        self.wfd = wfd
        self.buffer = b""
        self.children: set[int] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.wfd, view)
            except InterruptedError:  # pragma: no cover - PEP 475 retries for us
                continue
            view = view[n:]

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})

    def fork(self, request: dict[str, Any]) -> None:
        ident = request.get("id")
        problem = _request_problem(request)
        if problem is not None:
            self.send({"id": ident, "error": problem})
            return
        sys.stdout.flush()
        sys.stderr.flush()
        # The pid is answered once the child leads its own session: from then on a signal
        # to its process group (pause, cancel, stop) cannot miss it.
        sync_r, sync_w = os.pipe()
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(sync_r)
            os.close(sync_w)
            self.send({"id": ident, "error": f"fork failed: {exc.strerror or exc}"})
            return
        if pid == 0:  # pragma: no cover - the child's coverage is its run, measured elsewhere
            code = 1
            try:
                os.close(sync_r)
                code = _child(request, (self.rfd, self.wfd, self.wake_r, self.wake_w), sync_w)
            finally:
                os._exit(code if 0 <= code <= 255 else 1)
        os.close(sync_w)
        try:
            os.read(sync_r, 1)  # a byte after setsid, or end of file if it died first
        finally:
            os.close(sync_r)
        self.children.add(pid)
        self.send({"id": ident, "pid": pid})

    def handle_line(self, line: bytes) -> None:
        try:
            request = json.loads(line)
        except ValueError as exc:
            self.send({"id": None, "error": f"malformed request: {exc}"})
            return
        if not isinstance(request, dict):
            self.send({"id": None, "error": "a request is a JSON object"})
            return
        self.fork(request)

    def read(self) -> bool:
        """Take what stdin has; False at end of input."""
        chunk = os.read(self.rfd, 65536)
        if not chunk:
            return False
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            if line.strip():
                self.handle_line(line)
        if len(self.buffer) > _MAX_LINE:
            self.buffer = b""
            self.send({"id": None, "error": f"request line over {_MAX_LINE} bytes dropped"})
        return True

    def run(self) -> int:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        selector = selectors.DefaultSelector()
        selector.register(self.rfd, selectors.EVENT_READ, "in")
        selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        open_input = True
        while open_input:
            for key, _ in selector.select():
                if key.data == "wake":
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self.wake_r, 512):
                            pass
                    self.reap()
                elif not self.read():
                    open_input = False
            self.reap()
        return 0


def serve(argv: Sequence[str] | None = None) -> int:
    """Run the forkserver on this process's stdin and stdout."""
    del argv
    from animus_workflow_runner import __version__

    failed = preload()
    sys.stdout.flush()
    # The wire is the real stdout: nothing else may write to it, so print() goes to stderr.
    wfd = os.dup(1)
    os.dup2(2, 1)
    server = _Server(0, wfd)
    try:
        server.send({"ready": True, "pid": os.getpid(), "version": __version__, "failed": failed})
        return server.run()
    except BrokenPipeError:
        return 0
