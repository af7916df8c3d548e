"""Embedded defaults and `.animus/` bootstrap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from animus_config import ConfigError, bootstrap_project, load_workflow_config
from animus_config.loader import EMBEDDED_DEFAULTS_NAME, embedded_default_yaml


def test_embedded_defaults_load_and_validate(tmp_path: Path) -> None:
    loaded = load_workflow_config(tmp_path, env={})
    assert loaded.embedded
    assert loaded.warnings == []
    cfg = loaded.config
    assert cfg.default_workflow_ref == "standard"
    standard = cfg.workflow("standard")
    assert standard is not None
    assert [p.id for p in standard.phases] == ["implement", "test", "review"]
    review = standard.phases[2]
    assert review.on_verdict.rework is not None
    assert review.on_verdict.rework.target == "implement"
    assert review.max_rework_attempts == 3
    assert standard.post_success is not None
    assert standard.post_success.merge is not None
    assert cfg.phases["implement"].idempotency == "sideeffecting"
    test_cmd = cfg.phases["test"].command
    assert test_cmd is not None
    assert test_cmd.args == ["-c", "git diff --check HEAD"]
    loc = loaded.location(("workflows", 0, "phases", 2))
    assert loc is not None
    assert loc.file == EMBEDDED_DEFAULTS_NAME


def test_default_test_command_is_configurable(tmp_path: Path) -> None:
    cfg = load_workflow_config(tmp_path, env={"ANIMUS_TEST_COMMAND": "pytest -q"}).config
    command = cfg.phases["test"].command
    assert command is not None
    assert command.args == ["-c", "pytest -q"]


def test_bootstrap_creates_then_is_idempotent(tmp_path: Path) -> None:
    first = bootstrap_project(tmp_path)
    animus = tmp_path / ".animus"
    assert sorted(p.name for p in first.created) == ["config.json", "workflows", "workflows.yaml"]
    assert first.existing == []
    config = json.loads((animus / "config.json").read_text())
    assert config["default_subject_kind"] == "task"
    assert config["version"] == 1
    assert (animus / "workflows.yaml").read_text() == embedded_default_yaml()
    # The written file loads exactly like the embedded defaults.
    loaded = load_workflow_config(tmp_path, env={})
    assert not loaded.embedded
    assert loaded.sources == [animus / "workflows.yaml"]
    assert [w.id for w in loaded.config.workflows] == ["standard", "quick"]

    (animus / "workflows.yaml").write_text("# mine\n")
    second = bootstrap_project(tmp_path)
    assert second.created == []
    assert not second.changed
    assert len(second.existing) == 3
    assert (animus / "workflows.yaml").read_text() == "# mine\n"


def test_bootstrap_fills_only_missing_files(tmp_path: Path) -> None:
    (tmp_path / ".animus").mkdir()
    (tmp_path / ".animus" / "config.json").write_text('{"custom": true}')
    report = bootstrap_project(tmp_path)
    assert [p.name for p in report.created] == ["workflows.yaml", "workflows"]
    assert json.loads((tmp_path / ".animus" / "config.json").read_text()) == {"custom": True}
    assert not list((tmp_path / ".animus").glob(".*.tmp"))


def test_bootstrap_rejects_missing_root(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        bootstrap_project(tmp_path / "missing")
    assert "not a directory" in str(info.value)


def test_empty_project_file_is_valid_and_empty(tmp_path: Path) -> None:
    (tmp_path / ".animus").mkdir()
    (tmp_path / ".animus" / "workflows.yaml").write_text("# nothing yet\n")
    loaded = load_workflow_config(tmp_path, env={})
    assert loaded.config.workflows == []
    assert not loaded.embedded
