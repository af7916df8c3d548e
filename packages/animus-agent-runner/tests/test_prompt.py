"""Golden tests: the prompt is deterministic, so whole strings are pinned."""

from __future__ import annotations

from animus_agent_runner import (
    PriorPhaseOutput,
    PromptContext,
    ReworkFeedback,
    Skill,
    SubjectInfo,
    render_prompt,
)
from animus_config.schema import DecisionContract

FINISH = """\
## Finishing the phase
When you are done, print one final JSON object on its own line, with no text after it:
{"kind": "phase_decision", "phase_id": "%s", "verdict": "advance", "reason": "one sentence on why", "confidence": 0.9, "risk": "low", "evidence": [{"kind": "tests_passed", "description": "what shows it"}]}
- verdict: advance (done, move on) | rework (send the work back) | skip (nothing to do) | fail (cannot be done)
- confidence: a number from 0 to 1; risk: low | medium | high
- evidence: a list of {kind, description, file_path?, value?}; kinds: tests_passed, tests_failed, code_review_clean, code_review_issues, files_modified, requirements_met, research_complete, manual_verification, no_changes_needed, custom"""  # noqa: E501


def test_minimal_prompt() -> None:
    ctx = PromptContext(phase_id="review", subject=SubjectInfo(id="T-1", title="Fix bug"))
    expected = (
        "# Task T-1: Fix bug\n"
        "\n"
        "## Phase: review\n"
        "Carry out the review phase for this task.\n"
        "\n" + FINISH % "review" + "\n- a phase that ends without this JSON object fails\n"
    )
    assert render_prompt(ctx) == expected


def test_full_prompt_with_rework_prior_outputs_variables_skills_and_contract() -> None:
    ctx = PromptContext(
        phase_id="implement",
        subject=SubjectInfo(
            id="TASK-007",
            title="Add a README",
            description="Write a short README.\n\nMention the demo.\n",
            labels=("docs", "good-first"),
            type="docs",
        ),
        directive="Implement the task in the worktree. Keep changes small.",
        workflow_ref="standard",
        prior_outputs=(
            PriorPhaseOutput(
                "plan", "Plan: write README.md with a usage example.", verdict="advance", attempt=1
            ),
            PriorPhaseOutput("test", "x" * 30, verdict="rework"),
        ),
        rework=ReworkFeedback(
            from_phase="review",
            reason="The README has no usage example.",
            attempt=2,
            max_attempts=3,
            evidence=(
                {
                    "kind": "code_review_issues",
                    "description": "usage example missing",
                    "file_path": "README.md",
                },
            ),
            guardrail_violations=("confidence 0.5 is below the contract minimum 0.8",),
        ),
        variables={"target": "main", "audience": "operators"},
        skills=(
            Skill(
                "tdd",
                prompt_prefix="You practise test-driven development.",
                directives=("Write the failing test first.",),
                prompt_suffix="Remember: red, green, refactor.",
            ),
            Skill("concise"),
        ),
        decision_contract=DecisionContract(
            required_evidence=["tests_passed"], min_confidence=0.8, max_risk="medium"
        ),
        prior_output_chars=20,
    )
    expected = (
        "You practise test-driven development.\n"
        "\n"
        "# Task TASK-007: Add a README\n"
        "Type: docs\n"
        "Labels: docs, good-first\n"
        "\n"
        "Write a short README.\n"
        "\n"
        "Mention the demo.\n"
        "\n"
        "## Phase: implement (workflow standard)\n"
        "Implement the task in the worktree. Keep changes small.\n"
        "\n"
        "## Skills\n"
        "- tdd:\n"
        "  - Write the failing test first.\n"
        "- concise\n"
        "\n"
        "## Earlier phases of this run\n"
        "### plan (attempt 1, verdict advance)\n"
        "[... 23 earlier characters omitted; showing the last 20]\n"
        "ith a usage example.\n"
        "### test (verdict rework)\n"
        "[... 10 earlier characters omitted; showing the last 20]\n"
        "xxxxxxxxxxxxxxxxxxxx\n"
        "\n"
        "## Rework requested (attempt 2 of 3)\n"
        "The review phase sent this work back.\n"
        "Reason: The README has no usage example.\n"
        "Evidence:\n"
        "- code_review_issues: usage example missing (README.md)\n"
        "Guardrail violations:\n"
        "- confidence 0.5 is below the contract minimum 0.8\n"
        "Address every point above before you finish.\n"
        "\n"
        "## Workflow variables\n"
        "- audience: operators\n"
        "- target: main\n"
        "\n" + FINISH % "implement" + "\n"
        "- required evidence (advance needs each of these kinds): tests_passed\n"
        "- minimum confidence to advance: 0.8\n"
        "- maximum risk to advance: medium\n"
        "- a phase that ends without this JSON object fails\n"
        "\n"
        "Remember: red, green, refactor.\n"
    )
    assert render_prompt(ctx) == expected
    assert render_prompt(ctx) == render_prompt(ctx)  # deterministic


def test_prior_outputs_keep_only_the_most_recent_phases() -> None:
    priors = tuple(PriorPhaseOutput(f"p{i}", f"output {i}") for i in range(5))
    ctx = PromptContext(
        phase_id="x",
        subject=SubjectInfo(id="T-2", title="t"),
        prior_outputs=priors,
        prior_phases=2,
        decision_contract={"allow_missing_decision": True},
    )
    text = render_prompt(ctx)
    assert (
        "## Earlier phases of this run\n(3 earlier phase outputs omitted)\n"
        "### p3\noutput 3\n### p4\noutput 4\n"
    ) in text
    assert "### p2" not in text
    assert "fails\n" not in text  # a missing decision is allowed here


def test_short_outputs_are_not_marked_truncated_and_empty_ones_say_so() -> None:
    ctx = PromptContext(
        phase_id="x",
        subject=SubjectInfo(id="R-1", title="Spec", kind="requirement"),
        prior_outputs=(PriorPhaseOutput("a", "short"), PriorPhaseOutput("b", "   ")),
    )
    text = render_prompt(ctx)
    assert text.startswith("# Requirement R-1: Spec\n")
    assert "### a\nshort\n### b\n(no output)\n" in text
    assert "omitted" not in text
    assert "Carry out the x phase for this requirement." in text


def test_rework_without_evidence_or_limit() -> None:
    ctx = PromptContext(
        phase_id="implement",
        subject=SubjectInfo(id="T-3", title="t"),
        rework=ReworkFeedback(from_phase="test", reason="", attempt=1),
    )
    assert (
        "## Rework requested (attempt 1)\n"
        "The test phase sent this work back.\n"
        "Reason: (no reason given)\n"
        "Address every point above before you finish.\n"
    ) in render_prompt(ctx)


def test_feedback_from_a_decision_and_subject_from_a_task() -> None:
    from animus_agent_runner import decide, parse_phase_decision
    from animus_protocol.task import Task

    decision = parse_phase_decision(
        '{"verdict": "advance", "confidence": 0.4, "reason": "looks fine",'
        ' "evidence": [{"kind": "code_review_clean", "description": "no issues"}]}',
        "review",
    )
    record, _ = decide(decision, {"min_confidence": 0.7}, phase_id="review")
    feedback = ReworkFeedback.from_decision(record, decision, attempt=2, max_attempts=3)
    assert feedback.from_phase == "review"
    assert feedback.reason.startswith("decision contract not met (confidence 0.4 is below")
    assert feedback.reason.endswith("agent said: looks fine")
    assert feedback.guardrail_violations == ("confidence 0.4 is below the contract minimum 0.7",)
    assert len(feedback.evidence) == 1

    task = Task.model_validate(
        {"id": "TASK-9", "title": "Docs", "description": "d", "type": "docs", "tags": ["x"]}
    )
    subject = SubjectInfo.from_task(task)
    assert subject == SubjectInfo(
        id="TASK-9", title="Docs", description="d", labels=("x",), type="docs"
    )
    text = render_prompt(PromptContext(phase_id="p", subject=subject, rework=feedback))
    assert "## Rework requested (attempt 2 of 3)\nThe review phase sent this work back.\n" in text
    assert "- code_review_clean: no issues\n" in text
