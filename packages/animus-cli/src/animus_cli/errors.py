"""Turning any exception into a typed exit code and a message (or envelope) on stderr."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from animus_protocol.envelope import (
    AnimusError,
    ExitCode,
    InternalError,
    InvalidInputError,
    dumps_envelope,
    error_envelope,
)

__all__ = ["as_animus_error", "handle_exception", "print_error"]


def as_animus_error(exc: BaseException, argv: Sequence[str] = ()) -> AnimusError | int:
    """Map ``exc`` to an AnimusError, or to a bare exit code for clean exits."""
    if isinstance(exc, AnimusError):
        return exc
    if isinstance(exc, click.exceptions.Exit):
        return int(exc.exit_code)
    if isinstance(exc, SystemExit):
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    if isinstance(exc, click.exceptions.Abort | KeyboardInterrupt):
        return InternalError("interrupted", code="interrupted")
    if isinstance(exc, click.UsageError):
        command = exc.ctx.command_path if exc.ctx is not None else "animus"
        return InvalidInputError(
            exc.format_message(),
            details={"stage": "parse", "raw": list(argv)},
            hint=f"run '{command} --help' for usage",
        )
    if isinstance(exc, click.ClickException):
        return InvalidInputError(exc.format_message(), details={"stage": "parse"})
    if isinstance(exc, BrokenPipeError):
        return 0
    detail = f"{type(exc).__name__}: {exc}"
    return InternalError(
        f"unexpected error: {detail}",
        hint="set ANIMUS_DEBUG=1 for a traceback and report it as a bug",
    )


def print_error(err: AnimusError, *, json_output: bool) -> None:
    if json_output:
        sys.stderr.write(dumps_envelope(error_envelope(err)) + "\n")
        return
    sys.stderr.write(f"error: {err.message}\n")
    if err.hint:
        sys.stderr.write(f"hint: {err.hint}\n")


def handle_exception(exc: BaseException, *, json_output: bool, argv: Sequence[str]) -> int:
    mapped = as_animus_error(exc, argv)
    if isinstance(mapped, int):
        return mapped
    if os.environ.get("ANIMUS_DEBUG") and not isinstance(exc, AnimusError | click.ClickException):
        traceback.print_exception(exc, file=sys.stderr)
    print_error(mapped, json_output=json_output)
    return int(mapped.exit_code if isinstance(mapped.exit_code, ExitCode) else 1)
