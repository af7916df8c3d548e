"""The project ``animus demo`` works on: a tiny Python package, its tasks, the scripts the
scripted (mock) provider plays for each phase, and the demo workflow.

Everything here is data. The package, ``calc``, is standard-library Python whose tests run
with ``python3 -m unittest -q``; each task's implement script really writes or edits its
code (in the run's worktree), so the test phase tests real changes and what lands on
``main`` is real code.

How the scripts are chosen: the mock provider takes the first file of
``$ANIMUS_MOCK_SCRIPT_DIR`` (in name order) whose ``match`` fits the phase and the prompt.
The prompt of a phase holds the task's title, the reason of a rework that sent the run
back, and the output of the earlier phases of the run, so:

* ``00-implement-rework`` matches the first task's review reason: only the implement
  phase *after* that review's rework sees it;
* ``01-review-after-rework`` matches that rework's output: only the second review sees it;
* ``02-review-first-task`` matches the first task's title: its first review asks for
  rework;
* ``1N-implement-TASK`` matches each task's title; ``90-review`` approves everything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEMO_MARKER",
    "DEMO_WORKFLOW",
    "MAX_TASKS",
    "PROJECT_FILES",
    "REWORK_REASON",
    "TASKS",
    "WORKFLOWS_YAML",
    "DemoTask",
    "mock_scripts",
    "write_mock_scripts",
]

DEMO_WORKFLOW = "demo"
# Written into a demo project; a --dir holding it may be replaced by a new demo.
DEMO_MARKER = ".animus-demo.json"

PROJECT_FILES: dict[str, str] = {
    "README.md": (
        "# calc\n\n"
        "A tiny calculator package: the project `animus demo` works on.\n\n"
        "Run the tests with `python3 -m unittest -q`.\n"
    ),
    ".gitignore": ".animus/\n__pycache__/\n*.pyc\n" + DEMO_MARKER + "\n",
    "calc/__init__.py": '"""calc: a tiny calculator (the project of ``animus demo``)."""\n',
    "calc/basic.py": (
        '"""Basic arithmetic."""\n\n'
        "from __future__ import annotations\n\n\n"
        "def add(a: float, b: float) -> float:\n"
        '    """The sum of a and b."""\n'
        "    return a + b\n"
    ),
    "tests/__init__.py": "",
    "tests/test_basic.py": (
        "import unittest\n\n"
        "from calc.basic import add\n\n\n"
        "class AddTest(unittest.TestCase):\n"
        "    def test_add(self) -> None:\n"
        "        self.assertEqual(add(2, 3), 5)\n"
    ),
}

WORKFLOWS_YAML = f"""\
# The workflow of `animus demo` (see docs/demo.md). Both agents use the scripted `mock`
# provider: it plays the scripts in $ANIMUS_MOCK_SCRIPT_DIR, which write and edit real files
# in the run's worktree. Swap `tool: mock` for claude, codex, gemini or opencode and the same
# workflow drives a real coding agent.

agents:
  implementer:
    description: Makes the change the task asks for, with tests.
    tool: mock
    system_prompt: Implement the task with tests; end with a phase_decision JSON object.
  reviewer:
    description: Reviews the change and decides advance or rework.
    tool: mock
    system_prompt: Review the change strictly; end with a phase_decision JSON object.

phase_catalog:
  implement: {{ label: Implement, category: development }}
  test: {{ label: Test, category: verification }}
  review: {{ label: Review, category: review }}

phases:
  implement:
    mode: agent
    agent: implementer
    directive: Implement the task described below, with tests.
    idempotency: sideeffecting
  test:
    mode: command
    idempotency: idempotent
    command:
      program: python3
      args: [-m, unittest, -q]
      env: {{ PYTHONDONTWRITEBYTECODE: "1" }}
      cwd_mode: task_root
      timeout_secs: 120
      on_failure_verdict: rework
  review:
    mode: agent
    agent: reviewer
    directive: Review the change and decide whether it is ready to merge.
    idempotency: idempotent

workflows:
  - id: {DEMO_WORKFLOW}
    name: Implement, test, review, merge
    description: The demo's workflow; a failing test or a review sends the run back.
    worktree: {{ mode: required }}
    phases:
      - implement
      - id: test
        on_verdict: {{ rework: {{ target: implement }} }}
      - id: review
        max_rework_attempts: 2
        on_verdict: {{ rework: {{ target: implement }} }}
    post_success:
      merge: {{ strategy: merge, target_branch: main, cleanup_worktree: true }}

default_workflow_ref: {DEMO_WORKFLOW}
"""

_UNITTEST = "python3 -m unittest -q"


@dataclass(frozen=True)
class DemoTask:
    """One task of the demo: what it asks and what its implement phase does."""

    title: str
    description: str
    steps: list[dict[str, Any]]
    summary: str
    commit: str
    files: list[str]
    blocked_by: int | None = None  # index of the task this one waits for


def _decision(
    verdict: str, reason: str, evidence: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {
        "decision": {
            "verdict": verdict,
            "reason": reason,
            "confidence": 0.9,
            "risk": "low",
            "evidence": evidence,
            **extra,
        }
    }


def _implemented(summary: str, files: list[str], commit: str) -> list[dict[str, Any]]:
    """The closing steps of an implement script: run the tests, say what changed, advance
    (the decision's ``commit_message`` names the branch commit of the phase)."""
    return [
        {"run": {"command": _UNITTEST}},
        {"text": summary},
        _decision(
            "advance",
            summary,
            [
                {"kind": "files_modified", "description": ", ".join(files)},
                {"kind": "tests_passed", "description": _UNITTEST},
            ],
            commit_message=commit,
        ),
    ]


_ARITH_TESTS = (
    "import unittest\n\n"
    "from calc.basic import multiply, subtract\n\n\n"
    "class SubtractTest(unittest.TestCase):\n"
    "    def test_subtract(self) -> None:\n"
    "        self.assertEqual(subtract(5, 3), 2)\n\n\n"
    "class MultiplyTest(unittest.TestCase):\n"
    "    def test_multiply(self) -> None:\n"
    "        self.assertEqual(multiply(4, 3), 12)\n"
)
_NEGATIVE_TEST = (
    "        self.assertEqual(multiply(4, 3), 12)\n\n"
    "    def test_multiply_negative(self) -> None:\n"
    "        self.assertEqual(multiply(-4, 3), -12)\n"
    "        self.assertEqual(multiply(-4, -3), 12)\n"
)

TASKS: list[DemoTask] = [
    DemoTask(
        title="Add subtract and multiply to calc.basic",
        description="calc.basic only adds. Add subtract(a, b) and multiply(a, b), with tests.",
        steps=[
            {"thinking": "calc.basic has add(); subtract and multiply go next to it."},
            {
                "edit_file": {
                    "path": "calc/basic.py",
                    "old": "    return a + b\n",
                    "new": (
                        "    return a + b\n\n\n"
                        "def subtract(a: float, b: float) -> float:\n"
                        '    """a minus b."""\n'
                        "    return a - b\n\n\n"
                        "def multiply(a: float, b: float) -> float:\n"
                        '    """The product of a and b."""\n'
                        "    return a * b\n"
                    ),
                }
            },
            {"write_file": {"path": "tests/test_arith.py", "content": _ARITH_TESTS}},
        ],
        summary="Added subtract() and multiply() to calc/basic.py, tested in tests/test_arith.py.",
        commit="calc: subtract() and multiply(), with tests",
        files=["calc/basic.py", "tests/test_arith.py"],
    ),
    DemoTask(
        title="Add divide to calc.basic, rejecting a zero divisor",
        description=(
            "Add divide(a, b) after multiply() in calc.basic; dividing by zero raises "
            "ValueError with a clear message. Needs multiply() first."
        ),
        steps=[
            {"thinking": "divide() goes after multiply(), which the previous task added."},
            {
                "edit_file": {
                    "path": "calc/basic.py",
                    "old": "    return a * b\n",
                    "new": (
                        "    return a * b\n\n\n"
                        "def divide(a: float, b: float) -> float:\n"
                        '    """a divided by b; a zero b is an error, not infinity."""\n'
                        "    if b == 0:\n"
                        '        raise ValueError("cannot divide by zero")\n'
                        "    return a / b\n"
                    ),
                }
            },
            {
                "write_file": {
                    "path": "tests/test_divide.py",
                    "content": (
                        "import unittest\n\n"
                        "from calc.basic import divide\n\n\n"
                        "class DivideTest(unittest.TestCase):\n"
                        "    def test_divide(self) -> None:\n"
                        "        self.assertEqual(divide(6, 3), 2)\n\n"
                        "    def test_zero_divisor(self) -> None:\n"
                        '        with self.assertRaisesRegex(ValueError, "divide by zero"):\n'
                        "            divide(1, 0)\n"
                    ),
                }
            },
        ],
        summary="Added divide() to calc/basic.py (ValueError on zero), tested in "
        "tests/test_divide.py.",
        commit="calc: divide(), refusing a zero divisor",
        files=["calc/basic.py", "tests/test_divide.py"],
        blocked_by=0,
    ),
    DemoTask(
        title="Add mean() in a new calc.stats module",
        description="mean(values) of a non-empty sequence; an empty one raises ValueError.",
        steps=[
            {
                "write_file": {
                    "path": "calc/stats.py",
                    "content": (
                        '"""Statistics over sequences of numbers."""\n\n'
                        "from __future__ import annotations\n\n"
                        "from collections.abc import Sequence\n\n\n"
                        "def mean(values: Sequence[float]) -> float:\n"
                        '    """The arithmetic mean of a non-empty sequence."""\n'
                        "    if not values:\n"
                        '        raise ValueError("mean() of an empty sequence")\n'
                        "    return sum(values) / len(values)\n"
                    ),
                }
            },
            {
                "write_file": {
                    "path": "tests/test_stats.py",
                    "content": (
                        "import unittest\n\n"
                        "from calc.stats import mean\n\n\n"
                        "class MeanTest(unittest.TestCase):\n"
                        "    def test_mean(self) -> None:\n"
                        "        self.assertEqual(mean([1, 2, 3, 4]), 2.5)\n\n"
                        "    def test_empty(self) -> None:\n"
                        "        with self.assertRaises(ValueError):\n"
                        "            mean([])\n"
                    ),
                }
            },
        ],
        summary="Added calc/stats.py with mean(), tested in tests/test_stats.py.",
        commit="calc.stats: mean()",
        files=["calc/stats.py", "tests/test_stats.py"],
    ),
    DemoTask(
        title="Add a command line: python3 -m calc add 2 3",
        description="`python3 -m calc add A B` prints the sum; a bad number exits 2.",
        steps=[
            {
                "write_file": {
                    "path": "calc/__main__.py",
                    "content": (
                        '"""python3 -m calc add A B: print the sum."""\n\n'
                        "from __future__ import annotations\n\n"
                        "import sys\n\n"
                        "from calc.basic import add\n\n\n"
                        "def main(argv: list[str]) -> int:\n"
                        '    if len(argv) != 3 or argv[0] != "add":\n'
                        '        print("usage: python3 -m calc add A B", file=sys.stderr)\n'
                        "        return 2\n"
                        "    try:\n"
                        "        a, b = float(argv[1]), float(argv[2])\n"
                        "    except ValueError as exc:\n"
                        '        print(f"not a number: {exc}", file=sys.stderr)\n'
                        "        return 2\n"
                        '    print(f"{add(a, b):g}")\n'
                        "    return 0\n\n\n"
                        'if __name__ == "__main__":\n'
                        "    sys.exit(main(sys.argv[1:]))\n"
                    ),
                }
            },
            {
                "write_file": {
                    "path": "tests/test_cli.py",
                    "content": (
                        "import contextlib\n"
                        "import io\n"
                        "import unittest\n\n"
                        "from calc.__main__ import main\n\n\n"
                        "class CliTest(unittest.TestCase):\n"
                        "    def test_add(self) -> None:\n"
                        "        out = io.StringIO()\n"
                        "        with contextlib.redirect_stdout(out):\n"
                        '            self.assertEqual(main(["add", "2", "3"]), 0)\n'
                        '        self.assertEqual(out.getvalue(), "5\\n")\n\n'
                        "    def test_bad_number(self) -> None:\n"
                        "        with contextlib.redirect_stderr(io.StringIO()):\n"
                        '            self.assertEqual(main(["add", "two", "3"]), 2)\n'
                    ),
                }
            },
        ],
        summary="Added calc/__main__.py (python3 -m calc add A B), tested in tests/test_cli.py.",
        commit="calc: python3 -m calc add A B",
        files=["calc/__main__.py", "tests/test_cli.py"],
    ),
    DemoTask(
        title="Document how to use calc in the README",
        description="A short usage section in README.md.",
        steps=[
            {
                "edit_file": {
                    "path": "README.md",
                    "old": "Run the tests with",
                    "new": (
                        "## Usage\n\n"
                        "```python\n"
                        "from calc.basic import add\n\n"
                        "add(2, 3)  # 5\n"
                        "```\n\n"
                        "Run the tests with"
                    ),
                }
            },
        ],
        summary="Added a usage section to README.md.",
        commit="README: usage",
        files=["README.md"],
    ),
]
MAX_TASKS = len(TASKS)

# The first task's first review asks for one rework round with this reason.
REWORK_REASON = "multiply() is not tested with negative numbers"
_REWORK_DONE = "Rework: added the negative-number tests for multiply() the review asked for."


def _first_task_scripts() -> dict[str, dict[str, Any]]:
    first = TASKS[0]
    return {
        "00-implement-rework": {
            "match": {"phase": "implement", "prompt_contains": REWORK_REASON},
            "steps": [
                {"thinking": "The review wants negative factors covered."},
                {
                    "edit_file": {
                        "path": "tests/test_arith.py",
                        "old": "        self.assertEqual(multiply(4, 3), 12)\n",
                        "new": _NEGATIVE_TEST,
                    }
                },
                *_implemented(
                    _REWORK_DONE,
                    ["tests/test_arith.py"],
                    "tests: multiply() with negative factors (review)",
                ),
            ],
        },
        "01-review-after-rework": {
            "match": {"phase": "review", "prompt_contains": _REWORK_DONE},
            "steps": [
                {"text": "The negative-number tests are there and pass."},
                _decision(
                    "advance",
                    "subtract() and multiply() are correct and fully tested",
                    [
                        {"kind": "code_review_clean", "description": "calc/basic.py"},
                        {"kind": "tests_passed", "description": "tests/test_arith.py"},
                    ],
                ),
            ],
        },
        "02-review-first-task": {
            "match": {"phase": "review", "prompt_contains": first.title},
            "steps": [
                {"thinking": "Reading the diff of calc/basic.py and tests/test_arith.py."},
                {"text": "multiply() is only tested with positive factors."},
                _decision(
                    "rework",
                    REWORK_REASON,
                    [
                        {
                            "kind": "code_review_issues",
                            "description": "only positive factors are tested",
                            "file_path": "tests/test_arith.py",
                        }
                    ],
                ),
            ],
        },
    }


def mock_scripts(n_tasks: int) -> dict[str, dict[str, Any]]:
    """The mock provider's scripts for the first ``n_tasks`` tasks, by file stem."""
    scripts = _first_task_scripts()
    for index, task in enumerate(TASKS[:n_tasks]):
        scripts[f"{10 + index}-implement-task-{index + 1}"] = {
            "match": {"phase": "implement", "prompt_contains": task.title},
            "steps": [*task.steps, *_implemented(task.summary, task.files, task.commit)],
        }
    scripts["90-review"] = {
        "match": {"phase": "review"},
        "steps": [
            {"text": "The change matches the task and its tests pass."},
            _decision(
                "advance",
                "the change matches the task and is tested",
                [
                    {"kind": "code_review_clean", "description": "the diff is small and clear"},
                    {"kind": "tests_passed", "description": _UNITTEST},
                ],
            ),
        ],
    }
    return scripts


def write_mock_scripts(directory: Path, n_tasks: int) -> list[Path]:
    """Write the scripts as JSON files (the mock reads YAML or JSON)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, body in mock_scripts(n_tasks).items():
        path = directory / f"{stem}.json"
        path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
