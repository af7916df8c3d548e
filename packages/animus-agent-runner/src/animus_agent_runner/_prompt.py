"""Rendering the user prompt of an agent phase.

The prompt is a deterministic function of its :class:`PromptContext` (same context, same
bytes), so golden tests pin it. Sections, in order, each only when it has content: skill
prefixes, the subject, the phase directive, skill directives, earlier phases of this run,
rework feedback, workflow variables, the decision instruction, skill suffixes. The system
prompt (phase or agent) is not part of it: it travels in the request's ``system_prompt``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from animus_agent_runner._contract import as_decision_contract
from animus_config.schema import DecisionContract
from animus_protocol.workflow import Evidence, PhaseDecision, WorkflowDecisionRecord

if TYPE_CHECKING:
    from animus_protocol.task import Task

__all__ = [
    "DEFAULT_PRIOR_OUTPUT_CHARS",
    "DEFAULT_PRIOR_PHASES",
    "PriorPhaseOutput",
    "PromptContext",
    "ReworkFeedback",
    "Skill",
    "SubjectInfo",
    "decision_instruction",
    "render_prompt",
]

# Earlier phases' outputs are context, not the task: each is cut to its last
# DEFAULT_PRIOR_OUTPUT_CHARS characters (decisions and conclusions come last), and only the
# DEFAULT_PRIOR_PHASES most recent phases are shown.
DEFAULT_PRIOR_OUTPUT_CHARS = 2000
DEFAULT_PRIOR_PHASES = 8


@dataclass(frozen=True)
class SubjectInfo:
    """What the run works on (a task, a requirement, any subject)."""

    id: str
    title: str
    description: str = ""
    labels: Sequence[str] = ()
    type: str | None = None
    kind: str = "task"

    @classmethod
    def from_task(cls, task: Task) -> SubjectInfo:
        """The prompt's view of a task (its tags are the labels)."""
        return cls(
            id=task.id,
            title=task.title,
            description=task.description,
            labels=tuple(task.tags),
            type=task.task_type.value,
        )


@dataclass(frozen=True)
class PriorPhaseOutput:
    """The summary of an earlier phase of this run."""

    phase_id: str
    summary: str
    verdict: str | None = None
    attempt: int | None = None


@dataclass(frozen=True)
class ReworkFeedback:
    """Why the run came back to this phase: the deciding phase's reason and evidence."""

    from_phase: str
    reason: str
    attempt: int
    max_attempts: int | None = None
    evidence: Sequence[Evidence | Mapping[str, Any]] = ()
    guardrail_violations: Sequence[str] = ()

    @classmethod
    def from_decision(
        cls,
        record: WorkflowDecisionRecord,
        decision: PhaseDecision | None = None,
        *,
        attempt: int,
        max_attempts: int | None = None,
    ) -> ReworkFeedback:
        """Feedback from the decision that sent the run back: the record's reason (which
        names any contract violations), the agent's evidence, every guardrail violation."""
        reason = record.reason or (decision.reason if decision else "")
        return cls(
            from_phase=record.phase_id,
            reason=reason,
            attempt=attempt,
            max_attempts=max_attempts,
            evidence=tuple(decision.evidence) if decision else (),
            guardrail_violations=tuple(record.guardrail_violations),
        )


@dataclass(frozen=True)
class Skill:
    """A named skill: text before the prompt, directives in it, text after it."""

    name: str
    prompt_prefix: str | None = None
    directives: Sequence[str] = ()
    prompt_suffix: str | None = None


@dataclass(frozen=True)
class PromptContext:
    phase_id: str
    subject: SubjectInfo
    directive: str | None = None
    workflow_ref: str | None = None
    prior_outputs: Sequence[PriorPhaseOutput] = ()
    rework: ReworkFeedback | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    skills: Sequence[Skill] = ()
    decision_contract: DecisionContract | Mapping[str, Any] | None = None
    prior_output_chars: int = DEFAULT_PRIOR_OUTPUT_CHARS
    prior_phases: int = DEFAULT_PRIOR_PHASES


def _block(text: str | None) -> str | None:
    if text is None:
        return None
    stripped = text.strip("\n").rstrip()
    return stripped or None


def _subject(subject: SubjectInfo) -> str:
    lines = [f"# {subject.kind.capitalize()} {subject.id}: {subject.title.strip()}"]
    if subject.type:
        lines.append(f"Type: {subject.type}")
    if subject.labels:
        lines.append(f"Labels: {', '.join(subject.labels)}")
    description = _block(subject.description)
    if description:
        lines += ["", description]
    return "\n".join(lines)


def _phase(ctx: PromptContext) -> str:
    header = f"## Phase: {ctx.phase_id}"
    if ctx.workflow_ref:
        header += f" (workflow {ctx.workflow_ref})"
    directive = _block(ctx.directive) or (
        f"Carry out the {ctx.phase_id} phase for this {ctx.subject.kind}."
    )
    return f"{header}\n{directive}"


def _skills(skills: Sequence[Skill]) -> str | None:
    lines: list[str] = []
    for skill in skills:
        directives = [d.strip() for d in skill.directives if d.strip()]
        if directives:
            lines += [f"- {skill.name}:"] + [f"  - {d}" for d in directives]
        else:
            lines.append(f"- {skill.name}")
    return "## Skills\n" + "\n".join(lines) if lines else None


def _truncated(text: str, limit: int) -> str:
    body = text.strip()
    if len(body) <= limit:
        return body
    kept = body[len(body) - limit :] if limit > 0 else ""
    omitted = len(body) - len(kept)
    return f"[... {omitted} earlier characters omitted; showing the last {limit}]\n{kept}"


def _prior(ctx: PromptContext) -> str | None:
    outputs = list(ctx.prior_outputs)
    if not outputs:
        return None
    shown = outputs[-ctx.prior_phases :] if ctx.prior_phases > 0 else []
    lines = ["## Earlier phases of this run"]
    if len(shown) < len(outputs):
        lines.append(f"({len(outputs) - len(shown)} earlier phase outputs omitted)")
    for prior in shown:
        title = f"### {prior.phase_id}"
        notes = []
        if prior.attempt is not None:
            notes.append(f"attempt {prior.attempt}")
        if prior.verdict:
            notes.append(f"verdict {prior.verdict}")
        if notes:
            title += f" ({', '.join(notes)})"
        lines += [title, _truncated(prior.summary, ctx.prior_output_chars) or "(no output)"]
    return "\n".join(lines)


def _evidence_line(item: Evidence | Mapping[str, Any]) -> str:
    ev = item if isinstance(item, Evidence) else Evidence.model_validate(dict(item))
    line = f"- {ev.kind}"
    if ev.description:
        line += f": {ev.description}"
    if ev.file_path:
        line += f" ({ev.file_path})"
    if ev.value is not None:
        line += f" [value: {json.dumps(ev.value, sort_keys=True, default=str)}]"
    return line


def _rework(rework: ReworkFeedback | None) -> str | None:
    if rework is None:
        return None
    of = f" of {rework.max_attempts}" if rework.max_attempts else ""
    lines = [
        f"## Rework requested (attempt {rework.attempt}{of})",
        f"The {rework.from_phase} phase sent this work back.",
        f"Reason: {rework.reason.strip() or '(no reason given)'}",
    ]
    if rework.evidence:
        lines.append("Evidence:")
        lines += [_evidence_line(e) for e in rework.evidence]
    if rework.guardrail_violations:
        lines.append("Guardrail violations:")
        lines += [f"- {v}" for v in rework.guardrail_violations]
    lines.append("Address every point above before you finish.")
    return "\n".join(lines)


def _variables(variables: Mapping[str, str]) -> str | None:
    if not variables:
        return None
    lines = ["## Workflow variables"] + [f"- {k}: {variables[k]}" for k in sorted(variables)]
    return "\n".join(lines)


def decision_instruction(
    phase_id: str, contract: DecisionContract | Mapping[str, Any] | None = None
) -> str:
    """The closing instruction: print one final ``phase_decision`` JSON object."""
    example = {
        "kind": "phase_decision",
        "phase_id": phase_id,
        "verdict": "advance",
        "reason": "one sentence on why",
        "confidence": 0.9,
        "risk": "low",
        "evidence": [{"kind": "tests_passed", "description": "what shows it"}],
    }
    lines = [
        "## Finishing the phase",
        "When you are done, print one final JSON object on its own line, with no text after it:",
        json.dumps(example),
        "- verdict: advance (done, move on) | rework (send the work back) | "
        "skip (nothing to do) | fail (cannot be done)",
        "- confidence: a number from 0 to 1; risk: low | medium | high",
        "- evidence: a list of {kind, description, file_path?, value?}; kinds: tests_passed, "
        "tests_failed, code_review_clean, code_review_issues, files_modified, "
        "requirements_met, research_complete, manual_verification, no_changes_needed, custom",
    ]
    rules = as_decision_contract(contract)
    if rules.required_evidence:
        lines.append(
            "- required evidence (advance needs each of these kinds): "
            + ", ".join(rules.required_evidence)
        )
    if rules.min_confidence is not None:
        lines.append(f"- minimum confidence to advance: {rules.min_confidence:g}")
    if rules.max_risk is not None:
        lines.append(f"- maximum risk to advance: {rules.max_risk}")
    if not rules.allow_missing_decision:
        lines.append("- a phase that ends without this JSON object fails")
    return "\n".join(lines)


def render_prompt(ctx: PromptContext) -> str:
    """The user prompt for one phase attempt (deterministic; see the module docstring)."""
    sections = [
        *(_block(s.prompt_prefix) for s in ctx.skills),
        _subject(ctx.subject),
        _phase(ctx),
        _skills(ctx.skills),
        _prior(ctx),
        _rework(ctx.rework),
        _variables(ctx.variables),
        decision_instruction(ctx.phase_id, ctx.decision_contract),
        *(_block(s.prompt_suffix) for s in ctx.skills),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"
