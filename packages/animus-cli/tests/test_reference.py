from __future__ import annotations

from pathlib import Path

from animus_cli.reference import render_reference

DOC = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def test_reference_mentions_every_top_level_command() -> None:
    from animus_cli.app import COMMANDS

    text = render_reference()
    assert "## `animus`\n" in text
    for name in COMMANDS:
        assert f"`animus {name}`" in text


def test_docs_cli_md_is_current() -> None:
    # Only meaningful in the repository checkout (the wheel does not ship docs/).
    if not DOC.parent.is_dir():
        return
    assert DOC.exists(), "docs/cli.md is missing: python -m animus_cli.reference > docs/cli.md"
    assert DOC.read_text() == render_reference(), (
        "docs/cli.md is stale: run `uv run python -m animus_cli.reference > docs/cli.md`"
    )


def test_rendering_does_not_depend_on_click_help_option_caching() -> None:
    import click

    from animus_cli.app import cli

    first = render_reference()
    # Touch every command's help option through a parentless context (what some code paths
    # do), which caches a ``--help``-only option on the command objects.
    ctx = click.Context(cli, info_name="animus", **cli.context_settings)
    for name in cli.list_commands(ctx):
        sub = cli.get_command(ctx, name)
        assert sub is not None
        sub.get_help_option(click.Context(sub))
    assert render_reference() == first
    assert "| `--help` |" not in first
