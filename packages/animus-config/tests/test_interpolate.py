"""Interpolation on raw text: forms, escapes, errors and positions mapped to the original."""

from __future__ import annotations

from typing import TYPE_CHECKING

from animus_config.interpolate import interpolate_text

if TYPE_CHECKING:
    from conftest import Project


def test_forms_and_escape() -> None:
    text = "a: ${A}\nb: ${B:-fallback}\nc: $${NOT_A_VAR}\nd: cost $$5 and $HOME stays\n"
    result = interpolate_text(text, "f.yaml", {"A": "one"})
    assert result.errors == []
    assert result.text == "a: one\nb: fallback\nc: ${NOT_A_VAR}\nd: cost $5 and $HOME stays\n"


def test_default_applies_to_empty_value_too() -> None:
    result = interpolate_text("x: ${E:-d}", "f", {"E": ""})
    assert result.text == "x: d"


def test_set_value_wins_over_default() -> None:
    result = interpolate_text("x: ${E:-d}", "f", {"E": "set"})
    assert result.text == "x: set"


def test_required_message_and_position() -> None:
    text = "first: 1\nsecond:   ${TOKENLESS:?please export TOKENLESS}\n"
    result = interpolate_text(text, "w.yaml", {})
    (err,) = result.errors
    assert (err.file, err.line, err.column) == ("w.yaml", 2, 11)
    assert err.message == "TOKENLESS: please export TOKENLESS"


def test_bad_expressions_are_errors_all_collected() -> None:
    text = "a: ${1BAD}\nb: ${OK?x}\nc: ${UNCLOSED\n"
    result = interpolate_text(text, "f", {"OK": "1"})
    assert [(e.line, e.column) for e in result.errors] == [(1, 4), (2, 4), (3, 4)]
    assert "expected a variable name" in result.errors[0].message
    assert "missing '}'" in result.errors[2].message


def test_positions_after_substitution_map_back() -> None:
    text = "k: ${LONG_VARIABLE_NAME} tail\n"
    result = interpolate_text(text, "f", {"LONG_VARIABLE_NAME": "x"})
    out_offset = result.text.index("tail")
    loc = result.positions.location(out_offset)
    assert (loc.line, loc.column) == (1, text.index("tail") + 1)


def test_multiline_value_keeps_later_lines_right() -> None:
    text = 'a: "${V}"\nb: [\n'
    result = interpolate_text(text, "f", {"V": "x\\ny\\nz"})
    loc = result.positions.location(result.text.index("b:"))
    assert (loc.line, loc.column) == (2, 1)


def test_secret_warning_only_outside_secrets_and_env_fields() -> None:
    text = (
        "agents:\n  a: { model: '${MY_API_KEY:-x}' }\n"
        "mcp_servers:\n  s:\n    command: x\n"
        "    oauth: { flow: manual_bearer, bearer_env: '${TOKEN_NAME:-T}' }\n"
        "secrets:\n  gh: { env: '${GH_TOKEN_VAR:-GITHUB_TOKEN}' }\n"
    )
    result = interpolate_text(text, "f", {})
    assert [(w.line, "MY_API_KEY" in w.message) for w in result.warnings] == [(2, True)]


def test_secret_reference_left_for_resolver() -> None:
    result = interpolate_text("x: ${secret.github}", "f", {})
    assert result.errors == []
    assert result.text == "x: ${secret.github}"


def test_loader_positions_after_substitution(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL.replace("{ tool: claude }", "{ tool: '${T:-claude}', model: ${M}, x: 1 }"),
    )
    err = project.fail({"M": "a-very-long-model-name-that-shifts-columns"})
    diag = project.only(err, "agents.builder.x")
    assert project.at(diag) == project.pos(path, 2, "x: 1")


def test_loader_substitutes_from_given_env(project: Project) -> None:
    project.write(
        "workflows.yaml",
        project.MINIMAL.replace("{ tool: claude }", "{ tool: '${T:-codex}', model: ${M} }"),
    )
    agent = project.load({"M": "gpt-x"}).config.agents["builder"]
    assert (agent.tool, agent.model) == ("codex", "gpt-x")
