"""system_prompt_file: resolved relative to the YAML file that names it, UTF-8, at most 1 MiB."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Project

WORKFLOW = """\
phases:
  build: { mode: agent, agent: builder }
workflows:
  - id: w
    phases: [build]
"""


def test_relative_to_the_declaring_file(project: Project) -> None:
    prompts = project.root / ".animus" / "workflows" / "prompts"
    prompts.mkdir(parents=True)
    (prompts / "builder.md").write_text("You build things.\n")
    project.write("workflows.yaml", WORKFLOW)
    project.write(
        "workflows/agents.yaml", "agents:\n  builder: { system_prompt_file: prompts/builder.md }\n"
    )
    agent = project.load().config.agents["builder"]
    assert agent.system_prompt == "You build things.\n"
    assert agent.system_prompt_file == str((prompts / "builder.md").resolve())


def test_missing_file(project: Project) -> None:
    path = project.write(
        "workflows.yaml", WORKFLOW + "agents:\n  builder: { system_prompt_file: nope.md }\n"
    )
    diag = project.only(project.fail(), "agents.builder.system_prompt_file")
    assert project.at(diag) == project.pos(path, 7, "nope.md")
    assert "file not found" in diag.message


def test_size_cap(project: Project) -> None:
    (project.root / ".animus" / "big.md").write_bytes(b"x" * (1024 * 1024 + 1))
    (project.root / ".animus" / "ok.md").write_bytes(b"x" * (1024 * 1024))
    path = project.write(
        "workflows.yaml", WORKFLOW + "agents:\n  builder: { system_prompt_file: big.md }\n"
    )
    diag = project.only(project.fail(), "agents.builder.system_prompt_file")
    assert diag.line == 7
    assert "the limit is 1 MiB" in diag.message
    path.write_text(path.read_text().replace("big.md", "ok.md"))
    assert len(project.load().config.agents["builder"].system_prompt or "") == 1024 * 1024


def test_not_utf8(project: Project) -> None:
    (project.root / ".animus" / "bin.md").write_bytes(b"\xff\xfe\x00bad")
    project.write(
        "workflows.yaml", WORKFLOW + "agents:\n  builder: { system_prompt_file: bin.md }\n"
    )
    assert "not UTF-8" in project.only(project.fail(), "agents.builder.system_prompt_file").message


def test_both_prompt_and_file_rejected(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        WORKFLOW + "agents:\n  builder: { system_prompt: hi, system_prompt_file: a.md }\n",
    )
    diag = project.only(project.fail(), "agents.builder")
    assert project.at(diag) == project.pos(path, 7, "{ system_prompt")
    assert "not both" in diag.message
