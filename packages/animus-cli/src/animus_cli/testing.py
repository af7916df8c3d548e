"""Helpers for testing code that drives the ``animus`` CLI in-process.

``CliResult`` wraps one invocation's exit code and captured streams and decodes the
``animus.cli.v1`` envelope; tests (here, and in projects that script Animus) use it instead of
re-parsing JSON by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CliResult", "Invoke"]


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def data(self) -> Any:
        """The ``data`` of a success envelope on stdout (asserts it is one)."""
        assert self.code == 0, self.err
        env = json.loads(self.out)
        assert env["schema"] == "animus.cli.v1", env
        assert env["ok"] is True, env
        return env["data"]

    @property
    def error(self) -> dict[str, Any]:
        """The ``error`` object of the one error envelope on stderr (asserts it is one).

        The envelope's ``exit_code`` must be the process's exit status.
        """
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        env = json.loads(lines[0])
        assert env["ok"] is False, env
        error: dict[str, Any] = env["error"]
        assert error["exit_code"] == self.code, (error, self.code)
        return error


Invoke = Callable[..., CliResult]
