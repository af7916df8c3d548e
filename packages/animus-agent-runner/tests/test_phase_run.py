"""Agent phases run end to end: real mock-provider processes through the real session
host, real files under a temporary ANIMUS_HOME."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from animus_agent_runner import (
    AgentPhaseRequest,
    AgentPhaseResult,
    AgentPhaseRunner,
    read_session_file,
    run_agent_phase,
)
from animus_protocol.envelope import InvalidInputError
from animus_protocol.paths import ScopePaths
from animus_session_host import SessionHost

pytestmark = pytest.mark.anyio

SECRET = "sk-live-abcdef1234567890"

FULL_SCRIPT: list[dict[str, Any]] = [
    {"thinking": "Plan: look, change, test."},
    {"text": "Starting the implementation."},
    {
        "tool_call": {
            "name": "http_get",
            "arguments": {
                "url": "https://x.test",
                "api_key": SECRET,
                "headers": f"Authorization: Bearer {SECRET}",
            },
        }
    },
    {"tool_result": {"name": "http_get", "output": "200 OK", "success": True}},
    {"usage": {"input": 1200, "output": 300}},
    {
        "decision": {
            "verdict": "advance",
            "reason": "implemented and tested",
            "confidence": 0.92,
            "risk": "low",
            "evidence": [{"kind": "tests_passed", "description": "12 passed"}],
        }
    },
]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _request(project: Path, script: Any, **kwargs: Any) -> AgentPhaseRequest:
    base: dict[str, Any] = {
        "run_id": "run-1",
        "phase_id": "implement",
        "cwd": project,
        "prompt": "Implement the task.",
        "cli_tool": "mock",
        "extras": {"mock_script": script},
    }
    base.update(kwargs)
    return AgentPhaseRequest(**base)


@pytest.fixture
async def host(project: Path, host_env: dict[str, str]) -> AsyncIterator[SessionHost]:
    sessions = SessionHost(project_root=project, env=host_env, cancel_grace=1.0)
    try:
        yield sessions
    finally:
        await sessions.aclose()


async def _run(
    host: SessionHost,
    scope: ScopePaths,
    request: AgentPhaseRequest,
    seen: list[dict[str, Any]] | None = None,
) -> AgentPhaseResult:
    runner = AgentPhaseRunner(host, scope)
    return await runner.run(request, on_event=seen.append if seen is not None else None)


async def test_full_phase_records_events_session_decision_and_cost(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    seen: list[dict[str, Any]] = []
    request = _request(project, FULL_SCRIPT, cli_model="claude-sonnet-4-6", attempt=2)
    result = await _run(host, scope, request, seen)

    assert result.status == "completed", result.errors
    assert result.exit_code == 0
    assert result.session_id
    assert result.session_id.startswith("mock-")
    assert result.tool == "mock"
    assert result.model == "claude-sonnet-4-6"
    assert result.decision is not None
    assert result.decision.verdict.value == "advance"
    assert result.decision.confidence == pytest.approx(0.92)
    assert result.decision.phase_id == "implement"
    assert result.decision_record.decision.value == "advance"
    assert result.decision_record.source.value == "llm"
    assert result.tokens.input == 1200
    assert result.tokens.output == 300
    # No reported cost: the fallback table prices claude-sonnet at 6 USD per 1M tokens.
    assert result.cost_usd == pytest.approx(1500 * 6 / 1_000_000)
    assert result.cost_source == "estimated"
    assert result.retryable is False

    run_dir = scope.run_dir("run-1")
    lines = _lines(run_dir / "events.jsonl")
    types = [line["type"] for line in lines]
    assert types[0] == "started"
    assert types[-1] == "finished"
    body = [t for t in types if t not in ("started", "metadata", "decision", "finished")]
    assert body == [
        "thinking",
        "output_chunk",
        "tool_call",
        "tool_result",
        "output_chunk",  # the decision line
        "output_chunk",  # the final output
    ]
    assert types.index("metadata") < types.index("decision") < types.index("finished")
    for line in lines:
        assert line["run_id"] == "run-1"
        assert line["phase_id"] == "implement"
        assert line["attempt"] == 2
        assert "ts" in line
        assert "payload" in line
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    call = next(line for line in lines if line["type"] == "tool_call")
    assert call["payload"]["name"] == "http_get"
    assert call["payload"]["arguments"]["url"] == "https://x.test"
    assert call["payload"]["arguments"]["api_key"] == "[REDACTED]"
    assert "[REDACTED]" in call["payload"]["arguments"]["headers"]
    assert SECRET not in (run_dir / "events.jsonl").read_text(encoding="utf-8")
    meta = next(line for line in lines if line["type"] == "metadata")
    assert meta["payload"]["tokens"] == {"input": 1200, "output": 300}
    # The live callback saw exactly what was written, redaction included.
    assert seen == lines

    record = read_session_file(run_dir / "implement.session.json")
    assert record is not None
    assert record.session_id == result.session_id
    assert record.status == "completed"
    assert record.provider == "animus-provider-mock"
    assert record.tool == "mock"
    assert record.attempt == 2
    raw = json.loads((run_dir / "implement.session.json").read_text(encoding="utf-8"))
    assert set(raw) >= {
        "provider",
        "tool",
        "model",
        "session_id",
        "status",
        "started_at",
        "updated_at",
        "attempt",
    }


async def test_reported_cost_wins_over_the_rate_table(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    script = [{"usage": {"input": 10, "output": 5, "cost": 0.25}}, {"decision": {}}]
    result = await _run(host, scope, _request(project, script, cli_model="claude-opus-4"))
    assert result.cost_usd == pytest.approx(0.25)
    assert result.cost_source == "reported"


async def test_missing_decision_fails_unless_the_contract_allows_it(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    script = [{"text": "I did some things but forgot the decision."}]
    strict = await _run(host, scope, _request(project, script))
    assert strict.status == "completed"
    assert strict.decision is None
    assert strict.decision_record.decision.value == "fail"
    assert strict.decision_record.source.value == "fallback"
    assert strict.guardrail_violations
    assert "missing_decision" in strict.guardrail_violations[0]

    lenient = await _run(
        host,
        scope,
        _request(
            project,
            script,
            phase_id="docs",
            decision_contract={"allow_missing_decision": True},
        ),
    )
    assert lenient.decision is None
    assert lenient.decision_record.decision.value == "advance"
    assert lenient.decision_record.source.value == "fallback"
    assert lenient.guardrail_violations == []


@pytest.mark.parametrize(
    ("decision", "contract", "expected"),
    [
        (
            {"verdict": "advance", "confidence": 0.5, "risk": "low"},
            {"min_confidence": 0.8},
            "confidence 0.5 is below the contract minimum 0.8",
        ),
        (
            {"verdict": "advance", "confidence": 0.9, "risk": "high"},
            {"max_risk": "medium"},
            "risk high exceeds the contract maximum medium",
        ),
        (
            {"verdict": "advance", "confidence": 0.9, "evidence": [{"kind": "files_modified"}]},
            {"required_evidence": ["tests_passed"]},
            "required evidence 'tests_passed' is missing",
        ),
    ],
)
async def test_contract_violations_turn_advance_into_rework(
    host: SessionHost,
    scope: ScopePaths,
    project: Path,
    *,
    decision: dict[str, Any],
    contract: dict[str, Any],
    expected: str,
) -> None:
    phase = {"decision_contract": contract}
    result = await _run(host, scope, _request(project, [{"decision": decision}], phase=phase))
    assert result.status == "completed"
    assert result.decision is not None
    assert result.decision.verdict.value == "advance"
    assert result.guardrail_violations == [expected]
    assert result.decision_record.decision.value == "rework"
    assert expected in result.decision_record.reason
    assert result.decision_record.guardrail_violations == [expected]


async def test_failing_provider_step_is_a_non_retryable_failure(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    script = [{"text": "trying"}, {"fail": "the repository is read-only"}]
    result = await _run(host, scope, _request(project, script))
    assert result.status == "failed"
    assert result.retryable is False
    assert any("the repository is read-only" in e for e in result.errors)
    assert result.decision is None
    assert result.decision_record.decision.value == "fail"
    types = [line["type"] for line in _lines(scope.run_dir("run-1") / "events.jsonl")]
    assert "error" in types
    assert types[-1] == "finished"
    record = read_session_file(scope.run_dir("run-1") / "implement.session.json")
    assert record is not None
    assert record.status == "failed"


async def test_crashing_provider_is_a_retryable_failure(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    script = [{"text": "about to crash"}, {"crash": {"exit_code": 3}}]
    result = await _run(host, scope, _request(project, script))
    assert result.status == "failed"
    assert result.retryable is True
    assert result.errors


async def test_timeout_stops_the_session(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    script = [{"text": "working"}, {"sleep": 30}, {"text": "never"}]
    result = await _run(host, scope, _request(project, script, timeout_secs=0.5))
    assert result.status == "timeout"
    assert result.retryable is True
    assert "timed out" in result.errors[0]
    assert host.active_sessions() == []
    record = read_session_file(scope.run_dir("run-1") / "implement.session.json")
    assert record is not None
    assert record.status == "failed"
    assert record.reason == "timeout"


async def test_explicit_cancel_mid_sleep_then_resume_with_the_saved_session(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    script = [
        {"text": "before the nap"},
        {"sleep": 60},
        {"text": "after the nap"},
        {"decision": {"verdict": "advance", "confidence": 1.0, "reason": "resumed"}},
    ]
    runner = AgentPhaseRunner(host, scope)
    started = asyncio.Event()

    def on_event(record: dict[str, Any]) -> None:
        if record["type"] == "output_chunk":
            started.set()

    task = asyncio.ensure_future(runner.run(_request(project, script), on_event=on_event))
    await asyncio.wait_for(started.wait(), 30)
    path = scope.run_dir("run-1") / "implement.session.json"
    for _ in range(200):  # the running record is written off the event loop
        if path.exists():
            break
        await asyncio.sleep(0.02)
    running = read_session_file(path)
    assert running is not None
    assert running.status == "running"
    assert running.session_id
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    runner.cancel()
    result = await asyncio.wait_for(task, 30)
    elapsed = loop.time() - t0
    assert result.status == "cancelled"
    assert result.retryable is False
    # Far below the 60 s nap: the cancel reached the provider (the bench has the figure).
    assert elapsed < 30
    saved = read_session_file(path)
    assert saved is not None
    assert saved.status == "cancelled"
    assert saved.session_id == result.session_id

    resumed = await _run(host, scope, _request(project, script, resume=True, attempt=1, extras={}))
    assert resumed.status == "completed", resumed.errors
    assert resumed.session_id == saved.session_id
    assert "after the nap" in resumed.output
    assert "before the nap" not in resumed.output
    assert resumed.decision is not None
    assert resumed.decision.reason == "resumed"
    final = read_session_file(path)
    assert final is not None
    assert final.status == "completed"


async def test_asyncio_cancel_reaches_the_session_host(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    script = [{"text": "napping"}, {"sleep": 60}]
    runner = AgentPhaseRunner(host, scope)
    started = asyncio.Event()
    task = asyncio.ensure_future(
        runner.run(_request(project, script), on_event=lambda r: started.set())
    )
    await asyncio.wait_for(started.wait(), 30)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert host.active_sessions() == []
    saved = read_session_file(scope.run_dir("run-1") / "implement.session.json")
    assert saved is not None
    assert saved.status == "cancelled"
    types = [line["type"] for line in _lines(scope.run_dir("run-1") / "events.jsonl")]
    assert types[-1] == "finished"


async def test_cancel_before_the_provider_names_its_session(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    # The mock says nothing before it sleeps, so there is no session id to cancel by:
    # the runner waits a short grace for one, then abandons the turn.
    runner = AgentPhaseRunner(host, scope, session_id_grace=0.2)
    task = asyncio.ensure_future(runner.run(_request(project, [{"sleep": 60}])))
    await asyncio.sleep(0.5)
    runner.cancel()
    result = await asyncio.wait_for(task, 30)
    assert result.status == "cancelled"
    assert result.session_id is None
    types = [line["type"] for line in _lines(scope.run_dir("run-1") / "events.jsonl")]
    assert types == ["started", "finished"]


async def test_bad_input_is_a_clear_error(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    runner = AgentPhaseRunner(host, scope)
    with pytest.raises(InvalidInputError, match="is not a directory"):
        await runner.run(_request(project, [], cwd=project / "nope"))
    with pytest.raises(InvalidInputError, match="invalid phase id"):
        await runner.run(_request(project, [], phase_id="../escape"))
    with pytest.raises(InvalidInputError, match="no saved session"):
        await runner.run(_request(project, [], phase_id="review", resume=True))
    with pytest.raises(InvalidInputError, match="attempt"):
        await runner.run(_request(project, [], attempt=0))


async def test_unknown_tool_is_a_failed_result_with_an_install_hint(
    host: SessionHost, scope: ScopePaths, project: Path
) -> None:
    result = await _run(host, scope, _request(project, [], cli_tool="nosuchtool"))
    assert result.status == "failed"
    assert result.retryable is False
    assert "animus-provider-nosuchtool" in result.errors[0]


def test_sync_wrapper_runs_a_phase(
    project: Path, host_env: dict[str, str], scope: ScopePaths
) -> None:
    seen: list[str] = []
    callback: Callable[[dict[str, Any]], None] = lambda r: seen.append(r["type"])  # noqa: E731
    result = run_agent_phase(
        _request(project, [{"text": "hi"}, {"decision": {"verdict": "skip"}}]),
        project_root=project,
        env=host_env,
        on_event=callback,
    )
    assert result.status == "completed"
    assert result.decision_record.decision.value == "skip"
    assert seen[0] == "started"
    assert seen[-1] == "finished"
    assert (scope.run_dir("run-1") / "events.jsonl").exists()
