"""Every error names file:line:column and the field path (exact positions asserted)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Project


def test_malformed_yaml_points_at_yamls_own_mark(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        """\
        agents:
          builder: { tool: claude
        phases: {}
        """,
    )
    err = project.fail()
    (diag,) = err.errors
    assert diag.file == str(path)
    assert diag.line == 3
    assert "invalid YAML" in diag.message
    assert "flow mapping (started at line 2, column 12)" in diag.message
    assert str(diag).startswith(f"{path}:3:")


def test_unknown_key_names_key_line_and_allowed_keys(project: Project) -> None:
    path = project.write(
        "workflows.yaml", project.MINIMAL.replace("{ tool: claude }", "{ tool: claude, modle: x }")
    )
    diag = project.only(project.fail(), "agents.builder.modle")
    assert project.at(diag) == project.pos(path, 2, "modle")
    assert "unknown key 'modle'" in diag.message
    assert "model" in diag.message  # the allowed keys are listed


def test_unknown_top_level_section(project: Project) -> None:
    path = project.write("workflows.yaml", project.MINIMAL + "workflow_defaults: {}\n")
    diag = project.only(project.fail(), "workflow_defaults")
    assert project.at(diag) == project.pos(path, 10, "workflow_defaults")


def test_wrong_type_points_at_value(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL.replace(
            "phases: [build, check, review]",
            "phases:\n      - id: build\n        max_rework_attempts: lots",
        ),
    )
    diag = project.only(project.fail(), "workflows[0].phases[0].max_rework_attempts")
    assert project.at(diag) == project.pos(path, 11, "lots")
    assert "valid integer" in diag.message
    assert "'lots'" in diag.message


def test_bad_enum_value(project: Project) -> None:
    path = project.write(
        "workflows.yaml", project.MINIMAL.replace("check: { mode: command", "check: { mode: shell")
    )
    err = project.fail()
    diag = project.only(err, "phases.check.mode")
    assert project.at(diag) == project.pos(path, 5, "shell")
    assert "'agent', 'command' or 'manual'" in diag.message


def test_required_var_message(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL.replace(
            "{ tool: claude }", '{ tool: claude, model: "${MODEL:?set MODEL to a model id}" }'
        ),
    )
    (diag,) = project.fail().errors
    assert project.at(diag) == project.pos(path, 2, "${MODEL")
    assert diag.message == "MODEL: set MODEL to a model id"


def test_unset_variable_without_default(project: Project) -> None:
    path = project.write(
        "workflows.yaml", project.MINIMAL.replace("tool: claude", "tool: ${AGENT_TOOL}")
    )
    (diag,) = project.fail().errors
    assert project.at(diag) == project.pos(path, 2, "${AGENT_TOOL}")
    assert "AGENT_TOOL is not set" in diag.message


def test_unknown_phase_in_workflow(project: Project) -> None:
    path = project.write(
        "workflows.yaml", project.MINIMAL.replace("[build, check, review]", "[build, chek, review]")
    )
    diag = project.only(project.fail(), "workflows[0].phases[1].id")
    assert project.at(diag) == project.pos(path, 9, "chek")
    assert diag.message == "unknown phase 'chek' (known: build, check, review)"


def test_unknown_agent_in_phase_and_in_entry(project: Project) -> None:
    text = project.MINIMAL.replace(
        "review: { mode: agent, agent: builder }", "review: { mode: agent, agent: critic }"
    )
    text = text.replace("[build, check, review]", "[build, check, {id: review, agent: critc}]")
    path = project.write("workflows.yaml", text)
    err = project.fail()
    assert project.at(project.only(err, "phases.review.agent")) == project.pos(path, 6, "critic")
    assert (
        "unknown agent 'critic' (known: builder)"
        in project.only(err, "phases.review.agent").message
    )
    assert project.at(project.only(err, "workflows[0].phases[2].agent")) == project.pos(
        path, 9, "critc"
    )


def test_invalid_verdict_target_message_format(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL.replace(
            "phases: [build, check, review]",
            "phases:\n      - build\n      - check\n      - id: review\n"
            "        on_verdict: { rework: { target: buidl } }",
        ),
    )
    diag = project.only(project.fail(), "workflows[0].phases[2].on_verdict.rework.target")
    assert project.at(diag) == project.pos(path, 13, "buidl")
    assert str(diag) == (
        f"{path}:13:41: workflows[0].phases[2].on_verdict.rework.target: unknown phase 'buidl' "
        '(known: build, check, review; "" terminates the workflow)'
    )


def test_empty_target_terminates_and_is_valid(project: Project) -> None:
    project.write(
        "workflows.yaml",
        project.MINIMAL.replace(
            "[build, check, review]",
            "[build, check, {id: review, on_verdict: {fail: {target: ''}}}]",
        ),
    )
    loaded = project.load()
    route = loaded.config.workflows[0].phases[2].on_verdict.fail
    assert route is not None
    assert route.target == ""


def test_unknown_verdict_key(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL.replace(
            "[build, check, review]", "[build, check, {id: review, on_verdict: {retry: build}}]"
        ),
    )
    diag = project.only(project.fail(), "workflows[0].phases[2].on_verdict.retry")
    assert project.at(diag) == project.pos(path, 9, "retry")
    assert diag.message == "unknown key 'retry' (allowed: advance, fail, rework, skip)"


def test_cyclic_sub_workflow(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL
        + """\
  - id: outer
    phases: [build, {workflow_ref: inner}]
  - id: inner
    phases: [{workflow_ref: outer}]
""",
    )
    err = project.fail()
    outer = project.only(err, "workflows[1].phases[1].workflow_ref")
    assert project.at(outer) == project.pos(path, 11, "inner")
    assert outer.message == "sub-workflow cycle: outer -> inner -> outer"
    assert project.only(err, "workflows[2].phases[0].workflow_ref").line == 13


def test_unknown_sub_workflow(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL.replace("[build, check, review]", "[build, {workflow_ref: nope}]"),
    )
    diag = project.only(project.fail(), "workflows[0].phases[1].workflow_ref")
    assert project.at(diag) == project.pos(path, 9, "nope")
    assert "unknown workflow 'nope' (known: main)" in diag.message


def test_auto_merge_rejected_with_clear_message(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL + "    post_success: { merge: { strategy: squash, auto_merge: true } }\n",
    )
    diag = project.only(project.fail(), "workflows[0].post_success.merge.auto_merge")
    assert project.at(diag) == project.pos(path, 10, "auto_merge")
    assert "'auto_merge' was removed" in diag.message


def test_bad_cron(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL
        + 'schedules:\n  - { id: nightly, cron: "0 25 * * *", workflow_ref: main }\n',
    )
    diag = project.only(project.fail(), "schedules[0].cron")
    assert project.at(diag) == project.pos(path, 11, '"0 25')
    assert diag.message == "cron '0 25 * * *': hour: '25' is not in 0-23"


def test_schedule_command_rejected(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL
        + 'schedules:\n  - id: nightly\n    cron: "0 2 * * *"\n    command: make release\n',
    )
    err = project.fail()
    diag = project.only(err, "schedules[0].command")
    assert project.at(diag) == project.pos(path, 13, "command")
    assert "schedules no longer run shell commands" in diag.message
    # workflow_ref is also missing: both are reported, against the schedule entry.
    missing = project.only(err, "schedules[0].workflow_ref")
    assert missing.message == "missing required key 'workflow_ref'"
    assert missing.line == 11


def test_bad_active_hours(project: Project) -> None:
    path = project.write("workflows.yaml", project.MINIMAL + 'daemon:\n  active_hours: "9-17"\n')
    diag = project.only(project.fail(), "daemon.active_hours")
    assert project.at(diag) == project.pos(path, 11, '"9-17"')
    assert "HH:MM-HH:MM" in diag.message


def test_command_phase_without_command_block(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL.replace(
            'check: { mode: command, command: { program: "true" } }', "check: { mode: command }"
        ),
    )
    diag = project.only(project.fail(), "phases.check.mode")
    assert project.at(diag) == project.pos(path, 5, "command")
    assert diag.message == "a 'mode: command' phase needs a 'command' block"


def test_duplicate_workflow_id_in_one_file(project: Project) -> None:
    path = project.write("workflows.yaml", project.MINIMAL + "  - id: main\n    phases: [build]\n")
    diag = project.only(project.fail(), "workflows[1].id")
    assert project.at(diag) == project.pos(path, 10, "id")
    assert "duplicate workflow id 'main'" in diag.message


def test_duplicate_yaml_key(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL.replace("  review: {", "  build: { mode: manual }\n  review: {"),
    )
    diag = project.only(project.fail(), "phases.build")
    assert project.at(diag) == project.pos(path, 6, "build")
    assert "duplicate key 'build' (first defined at line 4)" in diag.message


def test_refs_of_schedules_triggers_and_default(project: Project) -> None:
    path = project.write(
        "workflows.yaml",
        project.MINIMAL
        + "default_workflow_ref: mian\n"
        + "schedules:\n  - { id: s, cron: '*/5 * * * *', workflow_ref: nope }\n"
        + "triggers:\n"
        + "  - { id: t, type: file_watcher, workflow_ref: main, config: { debounce_secs: 1 } }\n",
    )
    err = project.fail()
    assert project.at(project.only(err, "default_workflow_ref")) == project.pos(path, 10, "mian")
    assert project.only(err, "schedules[0].workflow_ref").line == 12
    paths_missing = project.only(err, "triggers[0].config.paths")
    assert paths_missing.line == 14
    assert paths_missing.message == "missing required key 'paths'"


def test_all_errors_collected_in_file_order(project: Project) -> None:
    text = project.MINIMAL.replace("agent: builder }\n  check", "agent: nobody }\n  check").replace(
        "[build, check, review]", "[build, check, review, ghost]"
    )
    path = project.write("workflows.yaml", text)
    err = project.fail()
    assert [(d.line, d.field_path) for d in err.errors] == [
        (4, "phases.build.agent"),
        (9, "workflows[0].phases[3].id"),
    ]
    assert str(err).startswith("2 errors:\n" + f"{path}:4:")
    payload = err.details["diagnostics"]
    assert payload[0]["field_path"] == "phases.build.agent"


def test_document_must_be_a_mapping(project: Project) -> None:
    path = project.write("workflows.yaml", "- just\n- a list\n")
    (diag,) = project.fail().errors
    assert project.at(diag) == project.pos(path, 1, "- just")
    assert "must be a mapping" in diag.message


def test_alias_bomb_is_refused(project: Project) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)
    ]
    path = project.write("workflows.yaml", "\n".join(lines) + "\n")
    (diag,) = project.fail().errors
    assert "more than 100000 nodes" in diag.message
    assert diag.file == str(path)


def test_yaml_merge_keys_work(project: Project) -> None:
    project.write(
        "workflows.yaml",
        project.MINIMAL.replace(
            "agents:\n  builder: { tool: claude }",
            "agents:\n  builder: &base { tool: claude, timeout_secs: 60 }\n"
            "  critic: { <<: *base, model: m }",
        ),
    )
    critic = project.load().config.agents["critic"]
    assert (critic.tool, critic.timeout_secs, critic.model) == ("claude", 60, "m")


def test_schema_and_reference_errors_reported_together(project: Project) -> None:
    text = (
        project.MINIMAL.replace(
            "review: { mode: agent", "review: { mode: agent, idempotency: maybe"
        ).replace("[build, check, review]", "[build, check, review, ghost]")
        + "  - id: broken\n    phases: [build]\n    worktree: sometimes\n"
        + "schedules:\n  - { id: s, cron: '0 1 * * *', workflow_ref: broken }\n"
        + "  - { id: t, cron: '0 1 * * *', workflow_ref: nowhere }\n"
    )
    path = project.write("workflows.yaml", text)
    err = project.fail()
    # Schema errors, plus reference errors of the valid entries; an invalid entry (phase
    # 'review', workflow 'broken') is still "known", so it causes no second error.
    assert [(d.line, d.field_path) for d in err.errors] == [
        (6, "phases.review.idempotency"),
        (9, "workflows[0].phases[3].id"),
        (12, "workflows[1].worktree.mode"),
        (15, "schedules[1].workflow_ref"),
    ]
    assert project.at(project.only(err, "workflows[0].phases[3].id")) == project.pos(
        path, 9, "ghost"
    )
