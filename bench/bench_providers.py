"""Provider overhead: a run through the claude / codex provider plugin vs the bare CLI run.

Both sides run the real CLI against the same ScriptedModelServer answering the same text turn.
"bare" spawns the CLI with the verified argv and environment and waits for it to exit (the
floor any orchestrator pays). "plugin" sends ``agent/run`` to a warm provider plugin process
(as the session host's pool keeps it) and waits for the final response: the CLI run plus
launch building, line reading, parsing, notifications and the response. Runs alternate
between the two so drift hits both alike; figures are medians. Also: parse cost per line of
the captured real streams. Target: the plugin adds <= 10 % to a run.

Prints one line per figure and saves ``bench/results/providers.json``.
``ANIMUS_BENCH_QUICK=1`` runs a shorter version.
"""

from __future__ import annotations

import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animus_provider_claude import ClaudeStreamParser
from animus_provider_codex import CodexStreamParser
from animus_testsupport import ScriptedModelServer, fixture_path
from animus_testsupport.clis import claude_bin, codex_bin
from animus_testsupport.realcli import (
    claude_argv,
    claude_env,
    codex_argv,
    codex_env,
    run_cli,
    write_codex_config,
)

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "providers.json"
RUNS = 3 if QUICK else 11
PARSE_LOOPS = 20 if QUICK else 200
TEXT = "Hello from the scripted model."
SCRIPT = {"turns": [], "default": {"thinking": "A short greeting.", "text": TEXT}}


class Plugin:
    """A warm provider plugin process spoken to over stdio (blocking, bounded waits)."""

    def __init__(self, module: str, env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0
        self.call(
            "initialize",
            {"protocol_version": "1.1.0", "host_info": {"name": "bench", "version": "0"}},
        )

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def call(self, method: str, params: Any, timeout: float = 120.0) -> dict[str, Any]:
        self.next_id += 1
        assert self.proc.stdin is not None
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if line is None:
                raise EOFError(f"{method}: plugin exited")
            reply = json.loads(line)
            if reply.get("id") == self.next_id and "method" not in reply:
                if "error" in reply:
                    raise RuntimeError(f"{method} failed: {reply['error']}")
                return dict(reply["result"])

    def cpu_ms(self) -> float:
        """CPU time the plugin process itself used so far (not its reaped children's)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        return ticks * 1000 / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def compare(bare: Callable[[], Any], plugin: Callable[[], Any], process: Plugin) -> dict[str, Any]:
    bare(), plugin()  # warm-up: file caches, the CLI's first-run files
    bare_ms: list[float] = []
    plugin_ms: list[float] = []
    cpu_before = process.cpu_ms()
    for _ in range(RUNS):
        bare_ms.append(timed(bare))
        plugin_ms.append(timed(plugin))
    cpu_per_run = (process.cpu_ms() - cpu_before) / RUNS
    b, p = statistics.median(bare_ms), statistics.median(plugin_ms)
    return {
        "runs": RUNS,
        # CPU the plugin process spent per run (launch, reading, parsing, notifying): the
        # overhead itself, free of the wall-clock noise of a shared machine.
        "plugin_cpu_ms_per_run": round(cpu_per_run, 1),
        "plugin_cpu_pct_of_bare": round(cpu_per_run / b * 100, 1),
        "bare_ms_median": round(b, 1),
        "plugin_ms_median": round(p, 1),
        "overhead_ms": round(p - b, 1),
        "overhead_pct": round((p - b) / b * 100, 1),
        "bare_ms_all": [round(v, 1) for v in bare_ms],
        "plugin_ms_all": [round(v, 1) for v in plugin_ms],
    }


def bench_claude(claude: Path, tmp: Path) -> dict[str, Any]:
    home, work = tmp / "claude-home", tmp / "claude-work"
    home.mkdir()
    work.mkdir()
    with ScriptedModelServer(SCRIPT) as server:
        env = claude_env(server.base_url, home, sandbox=True)

        def bare() -> None:
            run = run_cli(
                claude_argv(claude, "say hello", skip_permissions=True), env=env, cwd=work
            )
            assert run.returncode == 0, run.describe()
            assert TEXT in run.stdout, run.describe()

        plugin_env = {**env, "CLAUDE_BIN": str(claude), "ANIMUS_CLAUDE_SANDBOXED": "1"}
        plugin = Plugin("animus_provider_claude", plugin_env, work)
        params = {"prompt": "say hello", "cwd": str(work), "model": "claude-sonnet-4-6"}
        try:

            def through_plugin() -> None:
                assert plugin.call("agent/run", params)["output"] == TEXT

            return compare(bare, through_plugin, plugin)
        finally:
            plugin.close()


def bench_codex(codex: Path, tmp: Path) -> dict[str, Any]:
    home, work, codex_home = tmp / "codex-home-dir", tmp / "codex-work", tmp / "codex-home"
    home.mkdir()
    work.mkdir()
    with ScriptedModelServer(SCRIPT) as server:
        write_codex_config(codex_home, server.openai_base_url)
        env = codex_env(codex_home, home)

        def bare() -> None:
            run = run_cli(codex_argv(codex, "say hello"), env=env, cwd=work)
            assert run.returncode == 0, run.describe()
            assert TEXT in run.stdout, run.describe()

        plugin_env = {**env, "CODEX_BIN": str(codex)}
        plugin = Plugin("animus_provider_codex", plugin_env, work)
        params = {"prompt": "say hello", "cwd": str(work), "codex_home": str(codex_home)}
        try:

            def through_plugin() -> None:
                assert plugin.call("agent/run", params)["output"] == TEXT

            return compare(bare, through_plugin, plugin)
        finally:
            plugin.close()


def bench_parse(name: str, make: Callable[[], Any]) -> dict[str, Any]:
    lines = fixture_path(name).read_text(encoding="utf-8").splitlines()
    started = time.perf_counter()
    for _ in range(PARSE_LOOPS):
        parser = make()
        for line in lines:
            parser.parse_line(line)
    seconds = time.perf_counter() - started
    per_line = seconds / (PARSE_LOOPS * len(lines))
    return {
        "fixture": name,
        "lines": len(lines),
        "bytes": sum(len(line) for line in lines),
        "us_per_line": round(per_line * 1e6, 1),
        "ms_per_stream": round(per_line * len(lines) * 1000, 3),
    }


def main() -> dict[str, Any]:
    figures: dict[str, Any] = {"parse": {}}
    for name, make in (
        ("claude_tools.jsonl", ClaudeStreamParser),
        ("codex_tools.jsonl", CodexStreamParser),
    ):
        parse = bench_parse(name, make)
        figures["parse"][name] = parse
        print(
            f"parse {name}: {parse['us_per_line']} us/line, {parse['ms_per_stream']} ms for "
            f"the whole {parse['lines']}-line stream"
        )
    with tempfile.TemporaryDirectory(prefix="animus-bench-providers-") as tmp_dir:
        tmp = Path(tmp_dir)
        for tool, locate, run in (
            ("claude", claude_bin, bench_claude),
            ("codex", codex_bin, bench_codex),
        ):
            binary = locate()
            if binary is None:
                print(f"{tool}: CLI not installed (tools/install-agent-clis.sh); skipped")
                figures[tool] = None
                continue
            result = run(binary, tmp)
            figures[tool] = result
            print(
                f"{tool} text turn: bare CLI {result['bare_ms_median']} ms, through the plugin "
                f"{result['plugin_ms_median']} ms -> +{result['overhead_ms']} ms "
                f"({result['overhead_pct']} %, target <= 10 %), median of {RUNS}; plugin CPU "
                f"{result['plugin_cpu_ms_per_run']} ms/run ({result['plugin_cpu_pct_of_bare']} % "
                "of the bare run)"
            )
    return figures


if __name__ == "__main__":
    results = main()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "quick": QUICK,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                **results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {RESULTS.relative_to(ROOT.parent)}")
