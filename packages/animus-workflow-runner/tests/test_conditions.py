from __future__ import annotations

import pytest

from animus_workflow_runner.conditions import ConditionError, evaluate_any, parse_condition

CTX = {
    "task": {"type": "docs", "priority": "low", "tags": ["ui", "fast"], "score": 3},
    "vars": {"x": "y", "n": "2"},
    "subject": {"kind": "animus.task"},
    "input": None,
    "workflow": {"id": "standard"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("task.type == 'docs'", True),
        ('task.type != "docs"', False),
        ("task.priority in ['low', 'medium']", True),
        ("task.priority not in ['low']", False),
        ("vars.x == 'y' and not (task.type == 'feature')", True),
        ("vars.x == 'z' or task.score >= 3", True),
        ("task.score > 10 or false", False),
        ("'ui' in task.tags", True),
        ("task.missing == null", True),
        ("task.missing.deeper < 3", False),  # null never compares as less
        ("input == null and workflow.id == 'standard'", True),
        ("not not true", True),
        ("task.score == 3.0", True),
    ],
)
def test_expressions_evaluate(text: str, expected: bool) -> None:
    assert parse_condition(text).evaluate(CTX) is expected


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("task.type === 'docs'", 13),
        ("__import__('os').system('x')", 17),
        ("os.system('rm')", 1),
        ("task.type == ", 14),
        ("task.type == 'docs' and", 24),
        ("(task.type == 'docs'", 21),
        ("task.type @ 1", 11),
        ("", 1),
    ],
)
def test_invalid_expressions_name_the_column(text: str, column: int) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(text)
    assert info.value.column == column, str(info.value)


def test_evaluate_any_returns_the_first_condition_that_holds() -> None:
    conds = [parse_condition("vars.x == 'nope'"), parse_condition("task.type == 'docs'")]
    hit = evaluate_any(conds, CTX)
    assert hit is not None
    assert hit.text == "task.type == 'docs'"
    assert evaluate_any(conds[:1], CTX) is None


def test_enums_compare_by_their_wire_spelling() -> None:
    from animus_protocol.statuses import Priority

    assert parse_condition("task.priority == 'high'").evaluate(
        {"task": {"priority": Priority.HIGH}}
    )
