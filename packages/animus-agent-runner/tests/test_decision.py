from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from animus_agent_runner.decision import extract_decision_payload, iter_json_objects


def test_bare_line_at_end() -> None:
    text = 'I changed two files.\n{"verdict": "advance", "reason": "done", "confidence": 0.9}\n'
    payload = extract_decision_payload(text)
    assert payload == {
        "verdict": "advance",
        "reason": "done",
        "confidence": 0.9,
        "kind": "phase_decision",
    }


def test_fenced_block_and_nested_key() -> None:
    text = (
        "Review complete.\n```json\n"
        '{\n  "phase_decision": {\n    "verdict": "rework",\n    "reason": "tests missing"\n  }\n}'
        "\n```\n"
    )
    payload = extract_decision_payload(text)
    assert payload is not None
    assert payload["verdict"] == "rework"
    assert payload["reason"] == "tests missing"


def test_decision_key_alias() -> None:
    payload = extract_decision_payload('{"decision": {"verdict": "skip"}}')
    assert payload is not None
    assert payload["verdict"] == "skip"


def test_last_match_wins() -> None:
    text = '{"verdict": "rework"} then later {"verdict": "advance"} trailing'
    payload = extract_decision_payload(text)
    assert payload is not None
    assert payload["verdict"] == "advance"


def test_nested_verdict_does_not_override_its_container() -> None:
    text = '{"verdict": "fail", "previous": {"verdict": "advance"}}'
    payload = extract_decision_payload(text)
    assert payload is not None
    assert payload["verdict"] == "fail"


def test_explicit_kind_is_kept() -> None:
    payload = extract_decision_payload('{"kind": "custom", "verdict": "advance"}')
    assert payload is not None
    assert payload["kind"] == "custom"


def test_no_decision() -> None:
    assert extract_decision_payload("") is None
    assert extract_decision_payload("no json here { broken") is None
    assert extract_decision_payload('{"status": "ok"} [1, 2]') is None


def test_scan_limited_to_tail() -> None:
    early = '{"verdict": "advance"}'
    text = early + "x" * 2000
    assert extract_decision_payload(text, scan_bytes=100) is None
    assert extract_decision_payload(text, scan_bytes=5000) is not None


@given(
    noise=st.lists(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40)),
    verdict=st.sampled_from(["advance", "rework", "skip", "fail", "repeat"]),
)
def test_decision_found_among_arbitrary_noise(noise: list[str], verdict: str) -> None:
    decision = json.dumps({"verdict": verdict, "reason": "r"})
    text = "\n".join([*noise, decision, *noise[:2]])
    payload = extract_decision_payload(text)
    assert payload is not None
    assert payload["verdict"] == verdict


def test_iter_json_objects_skips_garbage() -> None:
    objs = list(iter_json_objects('x {bad} {"a": 1} {"b": {"c": 2}} {'))
    assert objs == [{"a": 1}, {"b": {"c": 2}}]
