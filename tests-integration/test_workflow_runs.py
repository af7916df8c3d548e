"""Workflow runs end to end in temporary git repositories with the scripted (mock) provider:
rework rounds to a merged branch, rework exhaustion, command routing, manual gates, skip_if,
budgets, merge conflicts, and validation before anything starts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from animus_config import ConfigError
from animus_protocol.envelope import ConflictError, InvalidInputError
from animus_workflow_runner.control import record_manual_verdict
from animus_workflow_runner.engine import ExecuteRequest, RunOutcome, execute
from animus_workflow_runner.events import read_events
from animus_workflow_runner.git.testing import checkout_snapshot, commit_file, git
from animus_workflow_runner.outputs import read_phase_outputs
from animus_workflow_runner.testing import WorkflowProject, make_workflow_project

pytestmark = pytest.mark.timeout(120)

AGENTS = """
agents:
  builder: { tool: mock }
  critic: { tool: mock }
"""

THREE_PHASES = (
    AGENTS
    + """
phases:
  implement: { mode: agent, agent: builder, directive: "Implement.", idempotency: sideeffecting,
               commit_message: "implement greeting" }
  test:
    mode: command
    idempotency: idempotent
    command: { program: sh, args: ["-c", "grep -q hello greeting.txt"], on_failure_verdict: rework }
  review: { mode: agent, agent: critic, directive: "Review.", idempotency: idempotent }
workflows:
  - id: build
    phases:
      - implement
      - id: test
        on_verdict: { rework: { target: implement } }
      - id: review
        max_rework_attempts: MAXREWORK
        on_verdict: { rework: { target: implement } }
    post_success: { merge: { strategy: merge, target_branch: main } }
default_workflow_ref: build
"""
)


def decision(verdict: str, reason: str, **extra: Any) -> dict[str, Any]:
    return {
        "decision": {
            "verdict": verdict,
            "reason": reason,
            "confidence": 0.9,
            "risk": "low",
            **extra,
        }
    }


def implement_scripts(p: WorkflowProject, counter: Path) -> None:
    """Round n writes greeting v<n> and says "implementation round <n>"."""
    for n, needle in ((3, "(attempt 2"), (2, "(attempt 1"), (1, None)):
        match: dict[str, Any] = {"phase": "implement"}
        if needle:
            match["prompt_contains"] = needle
        p.script(
            f"1{3 - n}-implement-{n}",
            {
                "match": match,
                "steps": [
                    {"write_file": {"path": "greeting.txt", "content": f"hello v{n}\n"}},
                    {"run": {"command": f"echo implement >> {counter}"}},
                    {"text": f"implementation round {n}"},
                    decision("advance", f"round {n} written"),
                ],
            },
        )


def review_until(p: WorkflowProject, ok_round: int) -> None:
    p.script(
        "20-review-ok",
        {
            "match": {"phase": "review", "prompt_contains": f"implementation round {ok_round}"},
            "steps": [{"text": "fine"}, decision("advance", "greeting is complete")],
        },
    )
    p.script(
        "21-review-rework",
        {
            "match": {"phase": "review"},
            "steps": [
                {"text": "not yet"},
                decision(
                    "rework",
                    "greeting lacks a version bump",
                    evidence=[{"kind": "code_review_issues", "description": "too short"}],
                ),
            ],
        },
    )


def run(p: WorkflowProject, task_id: str, **kw: Any) -> RunOutcome:
    return execute(ExecuteRequest(project_root=p.root, task_id=task_id, env=p.env, **kw))


def resume(p: WorkflowProject, workflow_id: str, **kw: Any) -> RunOutcome:
    return execute(
        ExecuteRequest(project_root=p.root, workflow_id=workflow_id, resume=True, env=p.env, **kw)
    )


def kinds(p: WorkflowProject, workflow_id: str) -> list[str]:
    with p.hub() as hub:
        run_dir = hub.paths.run_dir(workflow_id)
    return [e["kind"] for e in read_events(run_dir)]


def test_two_rework_rounds_complete_merge_and_record_every_verdict(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, THREE_PHASES.replace("MAXREWORK", "3"))
    counter = tmp_path / "counter"
    implement_scripts(p, counter)
    review_until(p, 3)
    task = p.create_task()
    before = git(p.root, "rev-parse", "main", env=p.env)

    out = run(p, task)

    assert (out.status, out.exit_code) == ("completed", 0)
    assert counter.read_text().count("implement") == 3
    log = git(p.root, "log", "--format=%s", f"{before}..main", env=p.env).splitlines()
    assert log.count("implement greeting") == 1
    assert "implement greeting (attempt 3)" in log
    assert git(p.root, "show", "main:greeting.txt", env=p.env) == "hello v3"
    with p.hub() as hub:
        assert hub.tasks.get(task).status.value == "done"
        decisions = [
            (d.phase_id, d.decision.value, d.reason) for d in hub.runs.decisions(out.workflow_id)
        ]
        run_record = hub.runs.get(out.workflow_id)
        outputs = read_phase_outputs(hub.paths.phase_outputs_dir(out.workflow_id))
        checkpoints = hub.runs.checkpoints(out.workflow_id)
    assert decisions == [
        ("implement", "advance", "round 1 written"),
        ("test", "advance", "sh exited 0"),
        ("review", "rework", "greeting lacks a version bump"),
        ("implement", "advance", "round 2 written"),
        ("test", "advance", "sh exited 0"),
        ("review", "rework", "greeting lacks a version bump"),
        ("implement", "advance", "round 3 written"),
        ("test", "advance", "sh exited 0"),
        ("review", "advance", "greeting is complete"),
    ]
    assert run_record.rework_counts == {"implement": 2}
    assert run_record.total_reworks == 2
    assert run_record.machine_state.value == "completed"
    assert outputs["implement"]["output"].startswith("implementation round 3")
    assert outputs["review"]["attempt"] == 3
    assert len(checkpoints) >= 10  # start + one per phase end + completion
    events = kinds(p, out.workflow_id)
    assert events[0] == "workflow_started"
    assert events[-1] == "workflow_completed"
    assert events.count("rework") == 2
    assert "merge_completed" in events
    # the reviewer's reason reached the implementer's second prompt
    with p.hub() as hub:
        agent_log = (hub.paths.run_dir(out.workflow_id) / "events.jsonl").read_text()
    assert "greeting lacks a version bump" in agent_log


def test_rework_exhaustion_escalates_and_blocks_the_task(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, THREE_PHASES.replace("MAXREWORK", "1"))
    implement_scripts(p, tmp_path / "counter")
    review_until(p, 99)  # never satisfied
    task = p.create_task()

    out = run(p, task)

    assert (out.status, out.exit_code) == ("escalated", 1)
    assert "rework budget exhausted" in (out.reason or "")
    with p.hub() as hub:
        t = hub.tasks.get(task)
        r = hub.runs.get(out.workflow_id)
    assert t.status.value == "blocked"
    assert "rework budget exhausted" in (t.blocked_reason or "")
    assert r.status.value == "escalated"
    assert r.machine_state.value == "human-escalated"
    assert git(p.root, "ls-tree", "--name-only", "main", env=p.env).count("greeting.txt") == 0


COMMAND_ROUTING = (
    AGENTS
    + """
phases:
  implement: { mode: agent, agent: builder, idempotency: sideeffecting }
  check:
    mode: command
    idempotency: idempotent
    command: { program: sh, args: ["-c", "echo checking; exit 3"], on_failure_verdict: fail,
               success_exit_codes: [0] }
  repair: { mode: agent, agent: builder, idempotency: idempotent }
  finish: { mode: command, idempotency: idempotent, command: { program: "true" } }
workflows:
  - id: routed
    worktree: skip
    phases:
      - implement
      - id: check
        on_verdict: { fail: { target: repair } }
      - finish
      - repair
  - id: plain-fail
    worktree: skip
    phases: [implement, check, finish]
"""
)


def test_failing_command_routes_per_on_verdict(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, COMMAND_ROUTING)
    task = p.create_task()
    out = run(p, task, workflow_ref="routed")
    assert out.status == "completed"
    with p.hub() as hub:
        d = [(x.phase_id, x.decision.value) for x in hub.runs.decisions(out.workflow_id)]
        outputs = read_phase_outputs(hub.paths.phase_outputs_dir(out.workflow_id))
    # check failed (exit 3) and routed to repair, skipping finish
    assert d == [("implement", "advance"), ("check", "fail"), ("repair", "advance")]
    assert outputs["check"]["exit_code"] == 3
    assert "checking" in outputs["check"]["output"]

    task2 = p.create_task("second")
    out2 = run(p, task2, workflow_ref="plain-fail")
    assert (out2.status, out2.exit_code) == ("failed", 1)
    assert "sh exited 3" in (out2.reason or "")
    with p.hub() as hub:
        assert hub.tasks.get(task2).status.value == "blocked"


MANUAL = (
    AGENTS
    + """
phases:
  implement: { mode: agent, agent: builder, idempotency: idempotent }
  signoff: { mode: manual, manual: { instructions: "Check the greeting." } }
  done: { mode: command, idempotency: idempotent, command: { program: "true" } }
workflows:
  - id: gated
    worktree: skip
    phases:
      - implement
      - id: signoff
        on_verdict: { rework: { target: implement } }
      - done
"""
)


def test_manual_gate_waits_resumes_on_approve_and_routes_on_reject(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, MANUAL)
    p.script(
        "10-implement-again",
        {
            "match": {"phase": "implement", "prompt_contains": "needs a smile"},
            "steps": [{"text": "added a smile"}, decision("advance", "smiling")],
        },
    )
    task = p.create_task()
    out = run(p, task, workflow_ref="gated")
    assert (out.status, out.exit_code) == ("manual_pending", 3)
    with p.hub() as hub:
        r = hub.runs.get(out.workflow_id)
        assert r.status.value == "paused"
        assert r.current_phase == "signoff"
        record_manual_verdict(hub, out.workflow_id, approve=False, feedback="needs a smile")
    out = resume(p, out.workflow_id)
    assert out.status == "manual_pending"  # reworked implement, back at the gate
    with p.hub() as hub:
        record_manual_verdict(hub, out.workflow_id, approve=True, phase_id="signoff", feedback="ok")
        with pytest.raises(ConflictError, match="waits on phase 'signoff', not 'implement'"):
            record_manual_verdict(hub, out.workflow_id, approve=True, phase_id="implement")
    out = resume(p, out.workflow_id)
    assert out.status == "completed"
    with p.hub() as hub:
        d = [(x.phase_id, x.decision.value, x.reason) for x in hub.runs.decisions(out.workflow_id)]
    assert d[1] == ("signoff", "rework", "needs a smile")
    assert d[2][:2] == ("implement", "advance")
    assert d[2][2] == "smiling"
    assert d[3] == ("signoff", "advance", "ok")
    assert d[-1][0] == "done"
    assert "manual_pending" in kinds(p, out.workflow_id)


SKIPPING = (
    AGENTS
    + """
phases:
  implement: { mode: agent, agent: builder, idempotency: idempotent }
  docs-check: { mode: command, idempotency: idempotent, command: { program: "false" } }
workflows:
  - id: skippy
    worktree: skip
    phases:
      - id: docs-check
        skip_if: ["task.type == 'docs' or vars.fast == 'yes'", "task.priority in ['low']"]
      - implement
"""
)


def test_skip_if_skips(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, SKIPPING)
    docs = p.create_task("docs", task_type="docs")
    out = run(p, docs, workflow_ref="skippy")
    assert out.status == "completed"
    assert "phase_skipped" in kinds(p, out.workflow_id)
    fast = p.create_task("fast")
    assert run(p, fast, workflow_ref="skippy", vars={"fast": "yes"}).status == "completed"
    slow = p.create_task("slow", priority="high")
    out = run(p, slow, workflow_ref="skippy")  # docs-check runs and fails
    assert out.status == "failed"


BUDGET = (
    AGENTS
    + """
phases:
  implement: { mode: agent, agent: builder, idempotency: idempotent }
  review: { mode: agent, agent: critic, idempotency: idempotent }
workflows:
  - id: metered
    worktree: skip
    budget: { max_tokens: 1000, max_cost_usd: 5 }
    phases: [implement, review]
"""
)


def test_budget_exceeded_pauses_with_the_figures(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, BUDGET)
    p.script(
        "10-implement",
        {
            "match": {"phase": "implement"},
            "steps": [
                {"usage": {"input": 1200, "output": 300, "cost": 0.25}},
                {"text": "spent"},
                decision("advance", "done"),
            ],
        },
    )
    task = p.create_task()
    out = run(p, task, workflow_ref="metered")
    assert (out.status, out.exit_code) == ("paused", 3)
    assert "1500 tokens of max_tokens 1000" in (out.reason or "")
    with p.hub() as hub:
        r = hub.runs.get(out.workflow_id)
    assert r.status.value == "paused"
    assert "budget exceeded" in (r.failure_reason or "")
    assert "budget_exceeded" in kinds(p, out.workflow_id)
    # resuming acknowledges the reported overrun and finishes the run
    assert resume(p, out.workflow_id).status == "completed"


CONFLICTING = (
    AGENTS
    + """
phases:
  implement:
    { mode: agent, agent: builder, idempotency: sideeffecting, commit_message: "change readme" }
  wait: { mode: manual }
workflows:
  - id: collide
    phases: [implement, wait]
    post_success: { merge: { strategy: merge, target_branch: main } }
"""
)


def test_merge_conflict_is_reported_and_the_operator_checkout_is_untouched(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, CONFLICTING)
    p.script(
        "10-implement",
        {
            "match": {"phase": "implement"},
            "steps": [
                {"write_file": {"path": "README.md", "content": "agent version\n"}},
                decision("advance", "rewrote the readme"),
            ],
        },
    )
    task = p.create_task()
    out = run(p, task, workflow_ref="collide")
    assert out.status == "manual_pending"
    # meanwhile the operator commits a conflicting change to main
    commit_file(p.root, "README.md", "operator version\n", "operator edit")
    (p.root / "scratch.txt").write_text("uncommitted operator work\n")
    snapshot = checkout_snapshot(p.root)
    with p.hub() as hub:
        record_manual_verdict(hub, out.workflow_id, approve=True)
    out = resume(p, out.workflow_id)
    assert (out.status, out.exit_code) == ("merge_conflict", 1)
    assert "README.md" in (out.reason or "")
    assert checkout_snapshot(p.root) == snapshot
    with p.hub() as hub:
        r = hub.runs.get(out.workflow_id)
        t = hub.tasks.get(task)
        wt = Path(json.loads(r.to_json())["runner"]["worktree"]["path"])
    assert r.machine_state.value == "merge-conflict"
    assert t.status.value == "blocked"
    assert "README.md" in (t.blocked_reason or "")
    events = [e for e in read_events(p.home.glob("*/runs").__next__() / out.workflow_id)]
    conflict = next(e for e in events if e["kind"] == "merge_conflict")
    assert conflict["payload"]["files"] == ["README.md"]
    assert wt.is_dir()  # the task's work is kept for resolution


BAD_REFS = (
    AGENTS
    + """
phases:
  implement: { mode: agent, agent: nobody }
workflows:
  - id: broken
    phases:
      - implement
      - id: ghost
"""
)


def test_bad_references_fail_at_validation_with_file_and_line(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, BAD_REFS)
    task = p.create_task()
    with pytest.raises(ConfigError) as info:
        run(p, task, workflow_ref="broken")
    text = str(info.value)
    assert "workflows.yaml:" in text
    assert "nobody" in text
    assert "ghost" in text
    with p.hub() as hub:
        assert hub.runs.list().total == 0  # nothing started


BAD_TARGET = (
    AGENTS
    + """
phases:
  implement: { mode: agent, agent: builder }
workflows:
  - id: w
    phases:
      - id: implement
        on_verdict: { rework: { target: nowhere } }
      - id: implement
        skip_if: ["task.type === 'x'"]
"""
)


def test_invalid_verdict_target_and_skip_if_fail_at_validation(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, BAD_TARGET)
    task = p.create_task()
    with pytest.raises(ConfigError, match=r"workflows\.yaml:\d+.*nowhere"):
        run(p, task, workflow_ref="w")
    ok = BAD_TARGET.replace("target: nowhere", "target: implement")
    (p.root / ".animus" / "workflows.yaml").write_text(ok)
    with pytest.raises(ConfigError, match=r"workflows\.yaml:\d+.*skip_if"):
        run(p, task, workflow_ref="w")
    with pytest.raises(InvalidInputError, match="unknown workflow 'missing'"):
        run(p, task, workflow_ref="missing")
    with p.hub() as hub:
        assert hub.runs.list().total == 0


BAD_BASE = (
    AGENTS
    + """
phases:
  implement: { mode: agent, agent: builder, idempotency: idempotent }
workflows:
  - id: w
    worktree: { mode: required, base_ref: no-such-branch }
    phases: [implement]
"""
)


def test_an_error_after_start_fails_the_run_with_the_reason_never_a_traceback(
    tmp_path: Path,
) -> None:
    p = make_workflow_project(tmp_path, BAD_BASE)
    task = p.create_task()
    out = run(p, task, workflow_ref="w")
    assert (out.status, out.exit_code) == ("failed", 1)
    assert "no-such-branch" in (out.reason or "")
    with p.hub() as hub:
        assert hub.tasks.get(task).status.value == "blocked"
        assert hub.errors.list().total >= 1


CONTRACT_AND_SUBFLOW = (
    AGENTS
    + """
phases:
  implement: { mode: agent, agent: builder, idempotency: idempotent }
  review:
    mode: agent
    agent: critic
    idempotency: idempotent
    decision_contract: { min_confidence: 0.8, required_evidence: [tests_passed] }
  check: { mode: command, idempotency: idempotent, command: { program: "true" } }
workflows:
  - id: inner
    phases: [check]
  - id: outer
    worktree: skip
    phases:
      - implement
      - id: review
        max_rework_attempts: 1
      - workflow_ref: inner
"""
)


def test_decision_contract_turns_a_weak_advance_into_rework_and_sub_workflows_expand(
    tmp_path: Path,
) -> None:
    p = make_workflow_project(tmp_path, CONTRACT_AND_SUBFLOW)
    p.script(
        "05-implement-again",
        {
            "match": {"phase": "implement", "prompt_contains": "Rework"},
            "steps": [{"text": "implemented with tests"}, decision("advance", "tests added")],
        },
    )
    p.script(
        "10-review-strong",
        {
            "match": {"phase": "review", "prompt_contains": "implemented with tests"},
            "steps": [
                decision(
                    "advance", "now with tests", confidence=0.9, evidence=[{"kind": "tests_passed"}]
                )
            ],
        },
    )
    p.script(
        "11-review-weak",
        {
            "match": {"phase": "review"},
            "steps": [decision("advance", "probably fine", confidence=0.3)],
        },
    )
    task = p.create_task()
    out = run(p, task, workflow_ref="outer")
    assert out.status == "completed", out.reason
    with p.hub() as hub:
        d = hub.runs.decisions(out.workflow_id)
        run_record = hub.runs.get(out.workflow_id)
    weak = d[1]
    assert (weak.phase_id, weak.decision.value) == ("review", "rework")
    assert "decision contract not met" in weak.reason
    assert "probably fine" in weak.reason
    assert [x.phase_id for x in d] == ["implement", "review", "implement", "review", "check"]
    assert [ph.phase_id for ph in run_record.phases] == ["implement", "review", "check"]


BUDGET_MODES = (
    AGENTS
    + """
phases:
  implement: { mode: agent, agent: builder, idempotency: idempotent }
  review: { mode: agent, agent: critic, idempotency: idempotent }
workflows:
  - id: warned
    worktree: skip
    phases:
      - id: implement
        budget: { max_cost_usd: 0.1, on_exceed: warn }
      - review
  - id: strict
    worktree: skip
    budget: { max_tokens: 100, on_exceed: fail }
    phases: [implement, review]
"""
)


def test_budget_warn_goes_on_and_fail_fails_with_the_figures(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, BUDGET_MODES)
    p.script(
        "10-implement",
        {
            "match": {"phase": "implement"},
            "steps": [
                {"usage": {"input": 400, "output": 100, "cost": 0.25}},
                decision("advance", "done"),
            ],
        },
    )
    out = run(p, p.create_task(), workflow_ref="warned")
    assert out.status == "completed"
    assert "budget_exceeded" in kinds(p, out.workflow_id)
    out = run(p, p.create_task("b"), workflow_ref="strict")
    assert (out.status, out.exit_code) == ("failed", 1)
    assert "run used 500 tokens of max_tokens 100" in (out.reason or "")


RETRY = (
    AGENTS
    + """
phases:
  flaky: { mode: agent, agent: builder, idempotency: idempotent, retry: { max_attempts: 2 } }
  risky: { mode: agent, agent: builder, idempotency: sideeffecting }
workflows:
  - id: flaky
    worktree: skip
    phases: [flaky]
  - id: risky
    worktree: skip
    phases: [risky]
"""
)


def test_an_idempotent_agent_phase_is_retried_after_its_provider_dies(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, RETRY)
    for phase in ("flaky", "risky"):
        p.script(
            f"10-{phase}",
            {
                "match": {"phase": phase},
                "steps": [
                    {"text": "starting"},
                    {"crash": {"exit_code": 3, "once_marker": f".crashed-{phase}"}},
                    decision("advance", "made it"),
                ],
            },
        )
    out = run(p, p.create_task(), workflow_ref="flaky")
    assert out.status == "completed", out.reason
    with p.hub() as hub:
        d = [(x.phase_id, x.decision.value) for x in hub.runs.decisions(out.workflow_id)]
    assert d == [("flaky", "fail"), ("flaky", "advance")]
    assert "phase_retry" in kinds(p, out.workflow_id)
    # a side-effecting phase is never retried on its own
    out = run(p, p.create_task("b"), workflow_ref="risky")
    assert out.status == "failed"


def test_a_custom_subject_runs_in_the_project_root_without_a_task(tmp_path: Path) -> None:
    p = make_workflow_project(tmp_path, COMMAND_ROUTING)
    out = execute(
        ExecuteRequest(
            project_root=p.root, subject="custom:nightly-check", workflow_ref="routed", env=p.env
        )
    )
    assert out.status == "completed"
    with p.hub() as hub:
        r = hub.runs.get(out.workflow_id)
    assert r.task_id == ""
    assert r.subject.id == "nightly-check"
    with pytest.raises(InvalidInputError, match="expected KIND:ID"):
        execute(ExecuteRequest(project_root=p.root, subject="nokind", env=p.env))
