from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put the test directory on sys.path; the helpers live here.
sys.path.insert(0, str(Path(__file__).parent))

from _support import Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)
