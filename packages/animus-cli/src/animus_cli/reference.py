"""Render the CLI reference (``docs/cli.md``) from the real click command tree.

``python -m animus_cli.reference > docs/cli.md`` regenerates it; a test compares the file
with this output so the reference cannot drift from the commands.
"""

from __future__ import annotations

import sys

import click

__all__ = ["render_reference"]


def _walk(command: click.Command, ctx: click.Context, path: list[str]) -> list[str]:
    lines: list[str] = []
    name = " ".join(path)
    depth = min(len(path) + 1, 4)
    lines.append(f"{'#' * depth} `{name}`")
    lines.append("")
    help_text = (command.help or "").strip()
    if help_text:
        lines.append(help_text.split("\n\n")[0].replace("\n", " "))
        lines.append("")
    lines.append("```")
    lines.append(f"Usage: {name} {' '.join(command.collect_usage_pieces(ctx))}".rstrip())
    lines.append("```")
    lines.append("")
    options = []
    # command.params, not get_params(): click caches each command's help option on first
    # use, so its names would depend on which context asked first. The help row is built
    # from this context's (inherited) names instead, which keeps the output deterministic.
    for param in command.params:
        record = param.get_help_record(ctx)
        if record is None:
            continue
        flags, text = record
        options.append(f"| `{flags}` | {text.replace('|', '/')} |")
    if command.add_help_option and ctx.help_option_names:
        options.append(f"| `{', '.join(ctx.help_option_names)}` | Show this message and exit. |")
    if options:
        lines += ["| option | meaning |", "|---|---|", *options, ""]
    if isinstance(command, click.Group):
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = click.Context(sub, info_name=sub_name, parent=ctx, **sub.context_settings)
            lines += _walk(sub, sub_ctx, [*path, sub_name])
    return lines


def render_reference() -> str:
    from animus_cli.app import cli

    ctx = click.Context(cli, info_name="animus", **cli.context_settings)
    header = [
        "# CLI reference",
        "",
        "Generated from the click command tree by `python -m animus_cli.reference`;",
        "`packages/animus-cli/tests/test_reference.py` fails when this file is stale.",
        "",
        "Every command accepts the global options of `animus`: `--json` prints",
        "`animus.cli.v1` envelopes (success on stdout, errors on stderr) and",
        "`--project-root` selects the project. Exit codes: 0 success, 1 internal,",
        "2 invalid input, 3 not found, 4 conflict, 5 unavailable.",
        "",
    ]
    return "\n".join(header + _walk(cli, ctx, ["animus"])).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_reference())
