"""A phase taken from a compiled workflow config, run with the mock provider; and what the
provider is sent (prompt rendered, system prompt apart, model, timeout, contract)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from animus_agent_runner import (
    AgentPhaseRequest,
    AgentPhaseRunner,
    PromptContext,
    SubjectInfo,
    resolve_tool_and_model,
)
from animus_agent_runner._params import build_run_params
from animus_config import compile_workflow_config, compiled_workflow, load_workflow_config
from animus_protocol.paths import ScopePaths
from animus_session_host import SessionHost

pytestmark = pytest.mark.anyio

WORKFLOWS = """\
agents:
  scripted:
    tool: mock
    system_prompt: You are a careful scripted agent.
    timeout_secs: 120
phases:
  review:
    mode: agent
    agent: scripted
    directive: Review the change.
    decision_contract:
      min_confidence: 0.8
      required_evidence: [code_review_clean]
workflows:
  - id: only-review
    phases: [review]
"""


@pytest.fixture
def compiled_phase(project: Path) -> dict[str, Any]:
    (project / ".animus" / "workflows.yaml").write_text(WORKFLOWS, encoding="utf-8")
    doc = compile_workflow_config(load_workflow_config(project))
    workflow = compiled_workflow(doc, "only-review")
    assert workflow is not None
    phase: dict[str, Any] = workflow["phases"][0]
    return phase


@pytest.fixture
async def host(project: Path, host_env: dict[str, str]) -> AsyncIterator[SessionHost]:
    scripts = project / "mock-scripts"
    scripts.mkdir()
    # Chosen by the provider only if the rendered prompt reached it.
    (scripts / "review.json").write_text(
        json.dumps(
            {
                "match": {"prompt_contains": "# Task TASK-42: Tighten the parser"},
                "steps": [
                    {"text": "Looked at the diff."},
                    {
                        "decision": {
                            "verdict": "advance",
                            "confidence": 0.6,
                            "reason": "matched the rendered prompt",
                            "evidence": [{"kind": "code_review_clean"}],
                        }
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    env = {**host_env, "ANIMUS_MOCK_SCRIPT_DIR": str(scripts)}
    sessions = SessionHost(project_root=project, env=env)
    try:
        yield sessions
    finally:
        await sessions.aclose()


def _context() -> PromptContext:
    return PromptContext(
        phase_id="review",
        subject=SubjectInfo(id="TASK-42", title="Tighten the parser"),
        directive="Review the change.",
    )


async def test_compiled_phase_drives_tool_prompt_and_contract(
    host: SessionHost, scope: ScopePaths, project: Path, compiled_phase: dict[str, Any]
) -> None:
    request = AgentPhaseRequest(
        run_id="run-7", phase_id="review", cwd=project, prompt=_context(), phase=compiled_phase
    )
    result = await AgentPhaseRunner(host, scope).run(request)
    assert result.status == "completed", result.errors
    assert result.tool == "mock"
    assert result.decision is not None
    assert result.decision.reason == "matched the rendered prompt"
    # The compiled decision_contract applies: 0.6 < 0.8 turns advance into rework.
    assert result.decision_record.decision.value == "rework"
    assert result.guardrail_violations == ["confidence 0.6 is below the contract minimum 0.8"]


def test_request_sent_to_the_provider(
    scope: ScopePaths, project: Path, compiled_phase: dict[str, Any]
) -> None:
    request = AgentPhaseRequest(
        run_id="run-7",
        phase_id="review",
        cwd=project,
        prompt=_context(),
        phase=compiled_phase,
        env={"FOO": "bar"},
        extras={"approvals": {"mode": "auto"}},
    )
    selection = compiled_phase["runtime"]
    params = build_run_params(
        request, resolve_tool_and_model(phase=compiled_phase), project, None, scope.project_root
    )
    assert selection["tool"] == "mock"
    assert params["prompt"].startswith("# Task TASK-42: Tighten the parser\n")
    assert "careful scripted agent" not in params["prompt"]
    assert params["system_prompt"] == "You are a careful scripted agent."
    assert params["timeout_secs"] == 120
    assert params["cwd"] == str(project)
    assert params["env"] == {"FOO": "bar"}
    assert params["phase"] == "review"
    assert params["approvals"] == {"mode": "auto"}
    assert params["runtime_contract"]["cli"]["name"] == "mock"
    assert params["runtime_contract"]["mcp"]["agent_id"] == "scripted"
    # The phase's contract is stated in the prompt it is checked against.
    assert "- minimum confidence to advance: 0.8\n" in params["prompt"]
    assert "advance needs each of these kinds): code_review_clean\n" in params["prompt"]
