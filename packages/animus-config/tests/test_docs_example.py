"""The example in docs/workflow-yaml.md must load, validate and compile."""

from __future__ import annotations

import re
from pathlib import Path

from animus_config import compile_workflow_config, load_workflow_config

DOC = Path(__file__).resolve().parents[3] / "docs" / "workflow-yaml.md"


def _example_yaml() -> str:
    text = DOC.read_text()
    section = text[text.index("## Example") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None, "no yaml block under '## Example'"
    return match.group(1)


def test_documented_example_validates_and_compiles(tmp_path: Path) -> None:
    (tmp_path / ".animus").mkdir()
    (tmp_path / ".animus" / "workflows.yaml").write_text(_example_yaml())
    loaded = load_workflow_config(tmp_path, env={})
    assert loaded.warnings == []
    workflow = loaded.config.workflow("build-and-review")
    assert workflow is not None
    compiled = compile_workflow_config(loaded)
    flow = next(w for w in compiled["config"]["workflows"] if w["id"] == "build-and-review")
    assert [p["id"] for p in flow["phases"]] == ["build", "check", "review", "review", "signoff"]
    review = flow["phases"][2]
    assert review["runtime"] == {
        "tool": "codex",
        "model": "gpt-5.4",
        "reasoning_effort": "high",
        "timeout_secs": 900,
    }
