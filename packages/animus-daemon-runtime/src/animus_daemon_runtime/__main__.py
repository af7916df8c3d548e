"""``python -m animus_daemon_runtime --project-root P [--once] [--pool-size N] ...``:
the foreground daemon without the CLI around it."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="animus-daemon")
    parser.add_argument("--project-root", required=True)
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--pool-size", type=int)
    parser.add_argument("--interval-secs", type=float)
    parser.add_argument("--max-tasks-per-tick", type=int)
    args = parser.parse_args(argv)
    from animus_daemon_runtime import run_daemon
    from animus_daemon_runtime.logs import setup_logging

    setup_logging(args.project_root)
    return run_daemon(
        args.project_root,
        once=args.once,
        pool_size=args.pool_size,
        interval_secs=args.interval_secs,
        max_tasks_per_tick=args.max_tasks_per_tick,
    )


if __name__ == "__main__":
    sys.exit(main())
