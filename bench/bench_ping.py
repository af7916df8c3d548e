"""Benchmark for the plugin-author runtime: ``$/ping`` round trips to a real plugin process.

Starts a minimal plugin (`animus_plugin_protocol.runtime.Plugin`) as a subprocess, then
measures sequential round-trip latency (median, p95) and pipelined throughput (requests/s
with many requests in flight). Saves ``bench/results/ping.json``; ``ANIMUS_BENCH_QUICK=1``
runs fewer requests.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from animus_plugin_protocol import FrameDecoder, encode_frame

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "ping.json"
SEQUENTIAL = 500 if QUICK else 5_000
PIPELINED = 5_000 if QUICK else 50_000

PLUGIN_SOURCE = """
from animus_plugin_protocol.runtime import Plugin

plugin = Plugin("animus-bench", "0.1.0", "custom", "ping benchmark target")

@plugin.method("bench/echo")
async def echo(params, ctx):
    return params

plugin.main()
"""


class Client:
    def __init__(self, script: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.decoder = FrameDecoder()
        self.ready: list[Any] = []

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(encode_frame(message))
        self.proc.stdin.flush()

    def receive(self) -> Any:
        assert self.proc.stdout is not None
        while not self.ready:
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                raise EOFError("plugin closed stdout")
            self.ready.extend(self.decoder.feed(chunk))
        return self.ready.pop(0)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench_plugin.py"
        script.write_text(PLUGIN_SOURCE)
        client = Client(script)
        client.send(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {"protocol_version": "1.1.0", "host_info": {"name": "b", "version": "0"}},
            }
        )
        assert "result" in client.receive()
        samples = []
        for i in range(1, SEQUENTIAL + 1):
            start = time.perf_counter_ns()
            client.send({"jsonrpc": "2.0", "id": i, "method": "$/ping"})
            reply = client.receive()
            samples.append((time.perf_counter_ns() - start) / 1e6)
            assert reply["id"] == i
        samples.sort()
        start = time.perf_counter()
        batch = b"".join(
            encode_frame({"jsonrpc": "2.0", "id": i, "method": "bench/echo", "params": {"i": i}})
            for i in range(SEQUENTIAL + 1, SEQUENTIAL + 1 + PIPELINED)
        )
        stdin = client.proc.stdin
        assert stdin is not None

        def write_all() -> None:
            stdin.write(batch)
            stdin.flush()

        # A writer thread so neither pipe can fill up while the other side waits.
        writer = threading.Thread(target=write_all)
        writer.start()
        for _ in range(PIPELINED):
            client.receive()
        writer.join()
        elapsed = time.perf_counter() - start
        client.close()
    figures = {
        "sequential_requests": SEQUENTIAL,
        "ping_median_ms": round(statistics.median(samples), 4),
        "ping_p95_ms": round(samples[int(len(samples) * 0.95)], 4),
        "pipelined_requests": PIPELINED,
        "pipelined_requests_per_s": round(PIPELINED / elapsed),
    }
    for key, value in figures.items():
        print(f"{key:32s} {value:>12,}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"quick": QUICK, "python": sys.version.split()[0], "figures": figures}, indent=2)
        + "\n"
    )
    print(f"saved {RESULTS.relative_to(ROOT.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
