"""The ``animus-workflow-runner`` executable (what the daemon and ``animus workflow run`` spawn).

``animus-workflow-runner execute --project-root P (--task-id ID | --subject KIND:ID)
[--workflow-ref R] [--workflow-id W] [--input-json J] [--var K=V ...] [--events-socket PATH]
[--resume] [--force]``; ``animus-workflow-runner forkserver`` is the daemon's warm parent
that forks one ``execute`` per request (see :mod:`animus_workflow_runner.forkserver`).

Exit codes: 0 completed; 1 failed, escalated or merge conflict; 2 invalid input (nothing
started); 3 paused or waiting on a manual gate; 4 cancelled (or a resume that needs
``--force``); 5 unavailable. Errors are one JSON line on stderr (an ``animus.cli.v1`` error
envelope), the outcome one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 itself; keep the envelope shape
        _fail("invalid_input", f"{self.prog}: {message}", 2)


def _fail(code: str, message: str, exit_code: int, details: dict[str, Any] | None = None) -> Any:
    error: dict[str, Any] = {"code": code, "message": message, "exit_code": exit_code}
    if details:
        error["details"] = details
    sys.stderr.write(
        json.dumps({"schema": "animus.cli.v1", "ok": False, "error": error}, default=str) + "\n"
    )
    sys.exit(exit_code)


def _parser() -> argparse.ArgumentParser:
    from animus_workflow_runner import __version__

    parser = _Parser(prog="animus-workflow-runner", description="Run one Animus workflow.")
    parser.add_argument(
        "--version", action="version", version=f"animus-workflow-runner {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ex = sub.add_parser("execute", help="run (or resume) one workflow run")
    ex.add_argument("--project-root", required=True)
    ex.add_argument("--task-id")
    ex.add_argument("--subject", help="KIND:ID")
    ex.add_argument("--workflow-ref")
    ex.add_argument("--workflow-id", help="an existing run (resume)")
    ex.add_argument("--run-id", help="id for a new run (default: generated)")
    ex.add_argument("--input-json")
    ex.add_argument("--var", action="append", default=[], metavar="K=V")
    ex.add_argument("--events-socket")
    ex.add_argument("--resume", action="store_true")
    ex.add_argument("--force", action="store_true")
    sub.add_parser(
        "forkserver",
        help="import the runner once and fork one execute per request on stdin (the daemon's)",
    )
    return parser


def _vars(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            _fail("invalid_input", f"invalid --var {pair!r}: expected KEY=VALUE", 2)
        out[key.strip()] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "forkserver":
        from animus_workflow_runner.forkserver import serve

        return serve()
    from animus_protocol.envelope import AnimusError
    from animus_workflow_runner.engine import ExecuteRequest, execute

    payload: Any = None
    if args.input_json is not None:
        try:
            payload = json.loads(args.input_json)
        except ValueError as exc:
            _fail("invalid_input", f"--input-json is not valid JSON: {exc}", 2)
    if args.workflow_id and (args.task_id or args.subject):
        _fail("invalid_input", "--workflow-id resumes a run; do not also give a subject", 2)
    if not args.workflow_id and not (args.task_id or args.subject):
        _fail("invalid_input", "give --task-id ID or --subject KIND:ID (or --workflow-id W)", 2)
    root = Path(args.project_root)
    if not root.is_dir():
        _fail("invalid_input", f"project root {root} is not a directory", 2)
    request = ExecuteRequest(
        project_root=root,
        task_id=args.task_id,
        subject=args.subject,
        workflow_ref=args.workflow_ref,
        workflow_id=args.workflow_id,
        resume=bool(args.resume or args.workflow_id),
        force=args.force,
        input=payload,
        vars=_vars(args.var),
        events_socket=args.events_socket,
        run_id=args.run_id,
    )
    try:
        outcome = execute(request)
    except AnimusError as exc:
        payload_err = exc.to_payload()
        code = int(exc.exit_code)
        # 3 means "paused" to the daemon: a missing task or run is invalid input here.
        _fail(payload_err["code"], str(exc), 2 if code == 3 else code, payload_err.get("details"))
    except KeyboardInterrupt:
        return 3
    sys.stdout.write(
        json.dumps(
            {
                "workflow_id": outcome.workflow_id,
                "status": outcome.status,
                "machine_state": outcome.machine_state,
                "reason": outcome.reason,
            },
        )
        + "\n"
    )
    return outcome.exit_code


def entry() -> None:  # console-script target
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
