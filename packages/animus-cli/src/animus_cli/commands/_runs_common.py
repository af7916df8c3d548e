"""Small helpers shared by the queue, workflow, history, status, init and demo commands.

Only click and the envelope errors are imported here, so importing a command module (for
``--help`` or the reference page) stays cheap; services are imported inside the commands.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import click

from animus_protocol.envelope import InvalidInputError

__all__ = [
    "dry_run_note",
    "parse_json_option",
    "parse_subject",
    "parse_vars",
    "say",
]


def say(text: str = "") -> None:
    """One line of human output on stdout."""
    sys.stdout.write(text + "\n")


def parse_vars(pairs: Iterable[str]) -> dict[str, str]:
    """``--var K=V`` (repeatable) into a dict; a pair without ``=`` is invalid input."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(
                f"invalid --var {pair!r}: expected KEY=VALUE",
                details={"value": pair},
                hint="e.g. --var branch=main (repeat --var for more)",
            )
        out[key.strip()] = value
    return out


def parse_json_option(text: str | None, flag: str) -> Any:
    """Parse a JSON-valued option; malformed JSON is invalid input naming the flag."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{flag} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            details={"flag": flag},
            hint=f"""quote it for the shell, e.g. {flag} '{{"key": "value"}}'""",
        ) from None


def parse_subject(text: str) -> tuple[str, str]:
    """``KIND:ID`` (``task:TASK-001``, ``requirement:REQ-002``, ``jira.issue:ABC-1``)."""
    kind, sep, ident = text.partition(":")
    if not sep or not kind.strip() or not ident.strip():
        raise InvalidInputError(
            f"invalid --subject {text!r}: expected KIND:ID",
            details={"value": text},
            hint="e.g. --subject task:TASK-001",
        )
    return kind.strip(), ident.strip()


def dry_run_note(what: str, flag: str = "--yes") -> None:
    say(f"dry run: {what}; nothing changed. Pass {flag} to apply.")


def one_of(options: Mapping[str, object], *, command: str) -> str:
    """The single option set among ``options`` (invalid input when none or several)."""
    given = [name for name, value in options.items() if value]
    if len(given) != 1:
        names = ", ".join(options)
        raise InvalidInputError(
            f"{command} needs exactly one of {names}"
            + (f" (got {', '.join(given)})" if given else ""),
            hint=f"run 'animus {command} --help' for usage",
        )
    return given[0]


def positive(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """click callback: reject zero and negative numbers with a clear message."""
    if value is not None and value < 1:
        raise click.BadParameter(f"must be at least 1, not {value}")
    return value
