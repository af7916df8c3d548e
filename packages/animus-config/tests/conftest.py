from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from animus_config import ConfigDiagnostic, ConfigError, LoadedConfig, load_workflow_config

MINIMAL = """\
agents:
  builder: { tool: claude }
phases:
  build: { mode: agent, agent: builder }
  check: { mode: command, command: { program: "true" } }
  review: { mode: agent, agent: builder }
workflows:
  - id: main
    phases: [build, check, review]
"""


class Project:
    """A temp project with helpers to write YAML, load it, and pick diagnostics."""

    MINIMAL = MINIMAL

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / ".animus").mkdir()

    def write(self, rel: str, text: str) -> Path:
        path = self.root / ".animus" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def load(self, env: Mapping[str, str] | None = None) -> LoadedConfig:
        return load_workflow_config(self.root, env=env or {})

    def fail(self, env: Mapping[str, str] | None = None) -> ConfigError:
        with pytest.raises(ConfigError) as info:
            self.load(env)
        err = info.value
        assert err.code == "invalid_input"
        return err

    @staticmethod
    def only(err: ConfigError, field_path: str) -> ConfigDiagnostic:
        """The single error whose field path is ``field_path``."""
        hits = [d for d in err.errors if d.field_path == field_path]
        assert len(hits) == 1, f"expected one error at {field_path}, got:\n{err}"
        return hits[0]

    @staticmethod
    def pos(path: Path, line: int, token: str) -> tuple[str, int, int]:
        """``(file, line, column)`` of ``token``'s first occurrence on 1-based ``line``."""
        text = path.read_text().splitlines()[line - 1]
        assert token in text, f"{token!r} not on line {line}: {text!r}"
        return str(path), line, text.index(token) + 1

    @staticmethod
    def at(diag: ConfigDiagnostic) -> tuple[str | None, int | None, int | None]:
        return diag.file, diag.line, diag.column


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)
