from __future__ import annotations

from pathlib import Path

from animus_cli.testing import Invoke

YAML = """
workflows:
  - id: quick
    phases: [check]
phases:
  check: { mode: command, command: { program: "true" } }
triggers:
  - id: on-push
    type: webhook
    workflow_ref: quick
    config: { max_triggers_per_minute: 5 }
  - { id: docs-changed, type: file_watcher, workflow_ref: quick, enabled: false,
      config: { paths: [docs] } }
"""


def test_list_human_and_json(animus: Invoke, project: Path) -> None:
    (project / ".animus").mkdir()
    (project / ".animus" / "workflows.yaml").write_text(YAML)
    human = animus("trigger", "list")
    assert human.code == 0, human.err
    assert "on-push" in human.out
    assert "docs-changed" in human.out
    data = animus("trigger", "list", json_output=True).data
    assert data["total"] == 2
    assert [(t["id"], t["type"], t["enabled"]) for t in data["triggers"]] == [
        ("on-push", "webhook", True),
        ("docs-changed", "file_watcher", False),
    ]


def test_bad_config_names_file_and_line(animus: Invoke, project: Path) -> None:
    (project / ".animus").mkdir()
    (project / ".animus" / "workflows.yaml").write_text(
        YAML.replace("workflow_ref: quick\n    config", "workflow_ref: nope\n    config")
    )
    res = animus("trigger", "list", json_output=True)
    assert res.code == 2
    assert "workflows.yaml:" in res.error["message"]
    assert "nope" in res.error["message"]


def test_fire_without_daemon_is_unavailable(animus: Invoke) -> None:
    res = animus("trigger", "fire", "on-push", json_output=True)
    assert res.code == 5
    assert res.error["code"] == "unavailable"
    assert "daemon start" in res.error["details"]["hint"]


def test_fire_bad_payload_is_invalid_input(animus: Invoke) -> None:
    res = animus("trigger", "fire", "on-push", "--payload", "{", json_output=True)
    assert res.code == 2
    assert "--payload is not JSON" in res.error["message"]
