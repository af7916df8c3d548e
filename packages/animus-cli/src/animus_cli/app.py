"""The root ``animus`` click group."""

from __future__ import annotations

import click

from animus_cli import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", "-V", prog_name="animus", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Animus: run a team of autonomous coding agents on a git repository."""


def run(argv: list[str]) -> int:
    try:
        cli.main(args=argv, prog_name="animus", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
