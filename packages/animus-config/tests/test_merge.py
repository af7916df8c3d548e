"""Multi-file merge: maps by key, lists by id, daemon by field, redefinition warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Project


def test_maps_merge_by_key_and_later_file_wins_with_warning(project: Project) -> None:
    main = project.write("workflows.yaml", project.MINIMAL)
    extra = project.write(
        "workflows/20-agents.yaml",
        """\
        agents:
          builder: { tool: codex, model: gpt-5.4 }
          critic: { tool: gemini }
        """,
    )
    loaded = project.load()
    assert loaded.sources == [main, extra]
    assert loaded.config.agents["builder"].tool == "codex"
    assert set(loaded.config.agents) == {"builder", "critic"}
    (warning,) = loaded.warnings
    assert (warning.file, warning.line, warning.field_path) == (str(extra), 2, "agents.builder")
    assert f"previous definition at {main}:2:3 is replaced" in warning.message
    # The source map follows the winner.
    loc = loaded.location(("agents", "builder", "model"))
    assert loc is not None
    assert (loc.file, loc.line) == (str(extra), 2)


def test_files_apply_in_sorted_order(project: Project) -> None:
    project.write("workflows.yaml", project.MINIMAL)
    project.write("workflows/b.yaml", "agents:\n  builder: { tool: from-b }\n")
    project.write("workflows/a.yaml", "agents:\n  builder: { tool: from-a }\n")
    project.write("workflows/ignored.txt", "not: yaml: at all: [")
    assert project.load().config.agents["builder"].tool == "from-b"


def test_workflows_schedules_triggers_merge_by_id(project: Project) -> None:
    project.write(
        "workflows.yaml",
        project.MINIMAL
        + "  - id: second\n    phases: [build]\n"
        + "schedules:\n  - { id: nightly, cron: '0 2 * * *', workflow_ref: main }\n",
    )
    extra = project.write(
        "workflows/more.yaml",
        """\
        workflows:
          - id: main
            phases: [review]
          - id: third
            phases: [check]
        schedules:
          - { id: nightly, cron: '0 3 * * *', workflow_ref: second }
          - { id: hourly, cron: '0 * * * *', workflow_ref: third }
        triggers:
          - { id: t1, type: webhook, workflow_ref: main }
        """,
    )
    loaded = project.load()
    cfg = loaded.config
    assert [w.id for w in cfg.workflows] == ["main", "second", "third"]
    assert [p.id for p in cfg.workflows[0].phases] == ["review"]
    assert [(s.id, s.cron) for s in cfg.schedules] == [
        ("nightly", "0 3 * * *"),
        ("hourly", "0 * * * *"),
    ]
    assert [t.id for t in cfg.triggers] == ["t1"]
    paths = sorted(w.field_path for w in loaded.warnings)
    assert paths == ["schedules[0]", "workflows[0]"]
    assert all(w.file == str(extra) for w in loaded.warnings)
    loc = loaded.location(("workflows", 0, "phases", 0))
    assert loc is not None
    assert (loc.file, loc.line) == (str(extra), 3)


def test_error_in_second_file_names_that_file(project: Project) -> None:
    project.write("workflows.yaml", project.MINIMAL)
    extra = project.write("workflows/x.yaml", "workflows:\n  - id: more\n    phases: [nope]\n")
    diag = project.only(project.fail(), "workflows[1].phases[0].id")
    assert project.at(diag) == project.pos(extra, 3, "nope")


def test_daemon_block_merges_field_by_field(project: Project) -> None:
    project.write(
        "workflows.yaml",
        project.MINIMAL
        + "daemon:\n  active_hours: '09:00-18:00'\n  phase_routing: { build: { tool: codex } }\n"
        + "  custom_knob: 7\n",
    )
    extra = project.write("workflows/z.yaml", "daemon:\n  active_hours: '22:00-06:00'\n")
    loaded = project.load()
    daemon = loaded.config.daemon
    assert daemon.active_hours == "22:00-06:00"
    assert daemon.phase_routing["build"].tool == "codex"
    assert daemon.model_extra == {"custom_knob": 7}
    (warning,) = loaded.warnings
    assert (warning.file, warning.field_path) == (str(extra), "daemon.active_hours")


def test_only_extra_files_without_main_file(project: Project) -> None:
    project.write("workflows/only.yaml", project.MINIMAL)
    loaded = project.load()
    assert not loaded.embedded
    assert [w.id for w in loaded.config.workflows] == ["main"]
