"""More validation: mode blocks, MCP servers, secrets, cron/active-hours variants, warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from animus_config._cron import cron_problem
from animus_protocol.envelope import AnimusError, ExitCode

if TYPE_CHECKING:
    from conftest import Project


def test_config_error_is_an_invalid_input_envelope_error(project: Project) -> None:
    project.write("workflows.yaml", "agents: [1]\n")
    err = project.fail()
    assert isinstance(err, AnimusError)
    assert err.exit_code == ExitCode.INVALID_INPUT
    payload = err.to_payload()
    assert payload["code"] == "invalid_input"
    assert payload["details"]["diagnostics"][0]["field_path"] == "agents"
    assert payload["details"]["diagnostics"][0]["line"] == 1


def test_mode_specific_blocks(project: Project) -> None:
    text = project.MINIMAL.replace(
        "build: { mode: agent, agent: builder }",
        "build: { mode: agent, agent: builder, command: { program: make } }",
    ).replace(
        'check: { mode: command, command: { program: "true" } }',
        'check: { mode: command, agent: builder, command: { program: "true" } }',
    )
    path = project.write("workflows.yaml", text)
    err = project.fail()
    assert project.at(project.only(err, "phases.build.command")) == project.pos(path, 4, "command")
    assert "only applies to 'mode: command'" in project.only(err, "phases.build.command").message
    assert project.only(err, "phases.check.agent").line == 5


def test_unknown_mcp_server_and_builtin_animus(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL.replace("{ tool: claude }", "{ tool: claude, mcp_servers: [animus, gh] }"),
    )
    diag = project.only(project.fail(), "agents.builder.mcp_servers[1]")
    assert project.at(diag) == project.pos(path, 2, "gh")
    assert diag.message == "unknown MCP server 'gh' (known: animus)"


def test_mcp_server_needs_command_or_url(project: Project) -> None:
    path = project.write(
        "workflows.yaml", project.MINIMAL + "mcp_servers:\n  web: { transport: http }\n"
    )
    diag = project.only(project.fail(), "mcp_servers.web")
    assert diag.line == 11
    assert diag.file == str(path)
    assert "needs 'url'" in diag.message


def test_secret_references_must_be_declared(project: Project) -> None:
    text = project.MINIMAL.replace(
        "{ tool: claude }", "{ tool: claude, extra_args: ['${secret.gh}'] }"
    )
    path = project.write("workflows.yaml", text)
    diag = project.fail().errors[0]
    assert project.at(diag) == project.pos(path, 2, "${secret.gh}")
    assert "unknown secret 'gh'" in diag.message
    project.write("workflows.yaml", text + "secrets:\n  gh: { env: GITHUB_TOKEN }\n")
    agent = project.load().config.agents["builder"]
    assert agent.extra_args == ["${secret.gh}"]  # resolved where used, never compiled in


def test_dollar_escape_through_loader(project: Project) -> None:
    project.write(
        "workflows.yaml",
        project.MINIMAL.replace(
            "{ tool: claude }", "{ tool: claude, system_prompt: 'costs $$5, ${X:-x}' }"
        ),
    )
    assert project.load().config.agents["builder"].system_prompt == "costs $5, x"


def test_removed_daemon_keys_and_evals_warn(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL + "daemon:\n  auto_run_ready: true\nevals: { checks: [] }\n",
    )
    loaded = project.load()
    found = {(w.field_path, w.line) for w in loaded.warnings}
    assert found == {("daemon.auto_run_ready", 11), ("evals", 12)}
    assert all(w.file == str(path) for w in loaded.warnings)


def test_webhook_rate_must_be_positive(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL
        + "triggers:\n  - id: h\n    type: webhook\n    workflow_ref: main\n"
        + "    config: { max_triggers_per_minute: 0 }\n",
    )
    diag = project.only(project.fail(), "triggers[0].config.max_triggers_per_minute")
    assert project.at(diag) == project.pos(path, 14, "0 }")


def test_agent_channel_participants(project: Project) -> None:
    project.write(
        "workflows.yaml",
        project.MINIMAL + "agent_channels:\n  team: { participants: [builder, ghost] }\n",
    )
    diag = project.only(project.fail(), "agent_channels.team.participants[1]")
    assert diag.line == 11


@pytest.mark.parametrize(
    "expr", ["0 2 * * *", "*/15 9-17 * * mon-fri", "0 0 1,15 jan,jul *", "5 4 * * sun", "0 0 * * 7"]
)
def test_cron_accepts(expr: str) -> None:
    assert cron_problem(expr) is None


@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("* * * *", "5 fields"),
        ("60 * * * *", "minute"),
        ("* * 0 * *", "day of month"),
        ("* * * 13 *", "month"),
        ("*/0 * * * *", "bad step"),
        ("5-1 * * * *", "backwards"),
        ("@daily", "5 fields"),
    ],
)
def test_cron_rejects(expr: str, needle: str) -> None:
    problem = cron_problem(expr)
    assert problem is not None
    assert needle in problem


@pytest.mark.parametrize(
    ("hours", "ok"),
    [
        ("22:00-06:00", True),
        ("09:30-17:45", True),
        ("24:00-01:00", False),
        ("10:00-10:00", False),
        ("9:00-17:00", False),
    ],
)
def test_active_hours_variants(project: Project, hours: str, ok: bool) -> None:
    project.write("workflows.yaml", project.MINIMAL + f"daemon: {{ active_hours: '{hours}' }}\n")
    if ok:
        assert project.load().config.daemon.active_hours == hours
    else:
        assert project.only(project.fail(), "daemon.active_hours").line == 10
