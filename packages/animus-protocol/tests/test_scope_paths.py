from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from animus_protocol.paths import ScopePaths, animus_home
from animus_protocol.scope import repo_scope, sanitize_repo_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("My Repo", "my-repo"),
        ("my__repo--x", "my-repo-x"),
        ("  lead", "lead"),
        ("trail_ ", "trail"),
        ("Ünïcode.Repo!", "ncoderepo"),
        ("...", "repo"),
        ("", "repo"),
        ("a - _ b", "a-b"),
    ],
)
def test_sanitize(raw: str, expected: str) -> None:
    assert sanitize_repo_name(raw) == expected


def test_repo_scope_hashes_canonical_root(tmp_path: Path) -> None:
    real = tmp_path / "Real_Proj"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    digest = hashlib.sha256(str(real.resolve()).encode()).hexdigest()[:12]
    assert repo_scope(real) == f"real-proj-{digest}"
    assert repo_scope(link) == repo_scope(real)


def test_distinct_clones_with_same_name_do_not_share(tmp_path: Path) -> None:
    a = tmp_path / "a" / "proj"
    b = tmp_path / "b" / "proj"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    assert repo_scope(a) != repo_scope(b)


def test_home_precedence(tmp_path: Path) -> None:
    assert animus_home({"ANIMUS_HOME": str(tmp_path / "h")}) == tmp_path / "h"
    assert animus_home({"ANIMUS_CONFIG_DIR": str(tmp_path / "c")}) == tmp_path / "c"
    both = {"ANIMUS_HOME": str(tmp_path / "h"), "ANIMUS_CONFIG_DIR": str(tmp_path / "c")}
    assert animus_home(both) == tmp_path / "h"


def test_scope_paths_layout(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    paths = ScopePaths.for_project(proj, {"ANIMUS_HOME": str(tmp_path / "home")})
    assert paths.root == tmp_path / "home" / repo_scope(proj)
    assert paths.workflow_db == paths.root / "workflow.db"
    assert paths.control_sock.name == "control.sock"
    assert paths.run_dir("r1") == paths.root / "runs" / "r1"
    assert paths.pm_config == paths.root / "daemon" / "pm-config.json"
