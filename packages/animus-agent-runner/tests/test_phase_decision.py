from __future__ import annotations

import pytest

from animus_agent_runner import decide, parse_phase_decision
from animus_config.schema import DecisionContract


def test_defaults_of_the_reference() -> None:
    decision = parse_phase_decision('done\n{"verdict": "advance"}', "build")
    assert decision is not None
    assert decision.kind == "phase_decision"
    assert decision.phase_id == "build"
    assert decision.verdict.value == "advance"
    assert decision.confidence == 0.0
    assert decision.risk.value == "medium"
    assert decision.reason == ""
    assert decision.evidence == []


def test_no_verdict_is_no_decision() -> None:
    assert parse_phase_decision('{"reason": "x", "confidence": 1}', "p") is None
    assert parse_phase_decision("no json at all", "p") is None


def test_unknown_verdict_is_tolerated_and_routed_to_fail() -> None:
    decision = parse_phase_decision('{"verdict": "approve", "confidence": 0.9}', "review")
    assert decision is not None
    assert decision.verdict.value == "unknown"
    record, violations = decide(decision, None, phase_id="review")
    assert record.decision.value == "fail"
    assert violations == ["unknown verdict: expected advance, rework, skip or fail"]


def test_loose_fields_are_normalized_not_lost() -> None:
    text = (
        '{"phase_decision": {"verdict": "ADVANCE", "confidence": "85%", "risk": "extreme",'
        ' "evidence": ["ran the suite", {"type": "tests_passed", "description": 3}, 7],'
        ' "guardrail_violations": "none", "reason": ["a", "b"], "target_phase": 5}}'
    )
    decision = parse_phase_decision(text, "p")
    assert decision is not None
    assert decision.verdict.value == "advance"
    assert decision.confidence == pytest.approx(0.85)
    assert decision.risk.value == "medium"
    assert [str(e.kind) for e in decision.evidence] == ["custom", "tests_passed"]
    assert decision.evidence[0].description == "ran the suite"
    assert decision.evidence[1].description == "3"
    assert decision.guardrail_violations == ["none"]
    assert decision.reason == '["a", "b"]'
    assert decision.target_phase is None


def test_confidence_is_clamped_and_phase_local_fields_kept() -> None:
    decision = parse_phase_decision('{"verdict": "rework", "confidence": 7, "files": 2}', "p")
    assert decision is not None
    assert decision.confidence == 1.0
    assert decision.model_extra == {"files": 2}


def test_rework_and_fail_keep_their_verdict_under_violations() -> None:
    contract = DecisionContract(min_confidence=0.9, required_evidence=["tests_failed"])
    decision = parse_phase_decision('{"verdict": "rework", "confidence": 0.2}', "review")
    assert decision is not None
    record, violations = decide(decision, contract, phase_id="review")
    assert record.decision.value == "rework"
    assert len(violations) == 2
    assert record.reason == ""


def test_evidence_kinds_match_any_spelling_and_agent_violations_are_kept() -> None:
    decision = parse_phase_decision(
        '{"verdict": "advance", "confidence": 1, "risk": "low",'
        ' "evidence": [{"kind": "Tests-Passed"}], "guardrail_violations": ["touched CI"]}',
        "p",
    )
    assert decision is not None
    record, violations = decide(
        decision, {"required_evidence": ["tests_passed"], "max_risk": "low"}, phase_id="p"
    )
    assert violations == []
    assert record.decision.value == "advance"
    assert record.guardrail_violations == ["touched CI"]


def test_bad_contract_is_a_clear_error() -> None:
    decision = parse_phase_decision('{"verdict": "advance"}', "p")
    with pytest.raises(ValueError, match="min_confidence"):
        decide(decision, {"min_confidence": 3}, phase_id="p")
