"""``agents.<id>.animus_mcp``: opting an agent out of the built-in ``animus`` MCP server.

The compiled config is plain dicts, so the opt-out must survive compilation: an explicit
``mcp_servers: []`` is recorded as ``animus_mcp: false``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from animus_config import compile_workflow_config

if TYPE_CHECKING:
    from conftest import Project


def _agent(project: Project, fields: str) -> dict[str, Any]:
    project.write(
        "workflows.yaml", project.MINIMAL.replace("{ tool: claude }", f"{{ tool: claude{fields} }}")
    )
    agent: dict[str, Any] = compile_workflow_config(project.load())["config"]["agents"]["builder"]
    return agent


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("", None),  # unset: the agent gets the server (the workflow runner's default)
        (", animus_mcp: false", False),
        (", animus_mcp: true", True),
        (", mcp_servers: []", False),  # an explicit empty list opts out too
        (", mcp_servers: [], animus_mcp: true", True),  # unless animus_mcp says otherwise
        (", mcp_servers: [animus]", None),
    ],
)
def test_animus_mcp_compiles(project: Project, fields: str, expected: bool | None) -> None:
    assert _agent(project, fields).get("animus_mcp") is expected


def test_animus_mcp_must_be_a_boolean(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL.replace("{ tool: claude }", "{ tool: claude, animus_mcp: sometimes }"),
    )
    diag = project.only(project.fail(), "agents.builder.animus_mcp")
    assert project.at(diag) == project.pos(path, 2, "sometimes")
    assert "bool" in diag.message
