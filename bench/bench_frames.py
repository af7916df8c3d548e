"""Benchmarks for animus-plugin-protocol framing: decode and encode throughput.

Prints one line per figure and saves ``bench/results/frames.json``. ``ANIMUS_BENCH_QUICK=1``
runs a shorter stream. Target (issue 2): decode >= 200,000 small frames/s.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animus_plugin_protocol import AgentOutput, FrameDecoder, encode_frame

QUICK = os.environ.get("ANIMUS_BENCH_QUICK", "") not in ("", "0")
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "frames.json"
FRAMES = 50_000 if QUICK else 400_000
CHUNK = 64 * 1024  # what a pipe read typically returns
REPEATS = 3

SMALL = {
    "jsonrpc": "2.0",
    "method": "agent/output",
    "params": {"session_id": "3f1c9a6e-0d5b", "text": "hello world", "final": False},
}


def best_rate(n: int, run: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return n / best


def decode_rate(stream: bytes, expected: int, chunk: int) -> float:
    def run() -> None:
        decoder = FrameDecoder()
        count = 0
        for start in range(0, len(stream), chunk):
            count += len(decoder.feed(stream[start : start + chunk]))
        assert count == expected, count

    return best_rate(expected, run)


def main() -> int:
    frame = encode_frame(SMALL)
    compact = frame * FRAMES
    pretty_n = FRAMES // 10
    pretty = (json.dumps(SMALL, indent=2).encode() + b"\n") * pretty_n
    model = AgentOutput(session_id="3f1c9a6e-0d5b", text="hello world")
    figures: dict[str, Any] = {
        "frame_bytes": len(frame),
        "frames": FRAMES,
        "decode_compact_frames_per_s": round(decode_rate(compact, FRAMES, CHUNK)),
        "decode_compact_one_byte_chunks_frames_per_s": round(
            decode_rate(compact[: len(frame) * 2000], 2000, 1)
        ),
        "decode_pretty_frames_per_s": round(decode_rate(pretty, pretty_n, CHUNK)),
        "encode_dict_frames_per_s": round(
            best_rate(FRAMES, lambda: [encode_frame(SMALL) for _ in range(FRAMES)])
        ),
        "encode_model_frames_per_s": round(
            best_rate(FRAMES // 4, lambda: [encode_frame(model) for _ in range(FRAMES // 4)])
        ),
    }
    for key, value in figures.items():
        print(f"{key:48s} {value:>12,}")
    target = 200_000
    ok = figures["decode_compact_frames_per_s"] >= target
    print(f"decode target >= {target:,} frames/s: {'met' if ok else 'NOT met'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "quick": QUICK,
                "python": sys.version.split()[0],
                "machine": platform.machine(),
                "target_decode_frames_per_s": target,
                "figures": figures,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {RESULTS.relative_to(ROOT.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
