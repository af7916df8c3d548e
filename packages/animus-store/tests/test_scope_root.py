from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from animus_protocol.paths import ScopePaths
from animus_store import StateWriteError
from animus_store.scope_root import ensure_scope_root, git_origin, open_scope_root


def _git_repo(path: Path, origin: str | None) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if origin:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", origin], check=True)
    return path


def test_first_creation_writes_markers_with_mode_0700(tmp_path: Path, home: Path) -> None:
    repo = _git_repo(tmp_path / "My Repo", "https://example.invalid/acme/my-repo.git")
    paths = ensure_scope_root(repo)
    assert paths == ScopePaths.for_project(repo)
    assert paths.root.parent == home
    assert paths.root.name.startswith("my-repo-")
    assert stat.S_IMODE(paths.root.stat().st_mode) == 0o700
    assert paths.project_root_marker.read_text().strip() == str(repo.resolve())
    assert paths.git_origin_marker.read_text().strip() == "https://example.invalid/acme/my-repo.git"
    again = open_scope_root(repo)
    assert not again.created
    assert again.adopted_from is None


def test_no_origin_and_no_git_give_an_empty_origin_marker(tmp_path: Path, home: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_origin(plain) == ""
    paths = ensure_scope_root(plain)
    assert paths.git_origin_marker.read_text() == ""
    local = ensure_scope_root(_git_repo(tmp_path / "local", None))
    assert local.git_origin_marker.read_text() == ""


def test_markers_are_restored_when_missing(tmp_path: Path, home: Path) -> None:
    repo = _git_repo(tmp_path / "r", "git@example.invalid:a/r.git")
    paths = ensure_scope_root(repo)
    paths.project_root_marker.unlink()
    paths.git_origin_marker.unlink()
    ensure_scope_root(repo)
    assert paths.project_root_marker.read_text().strip() == str(repo.resolve())
    assert paths.git_origin_marker.read_text().strip() == "git@example.invalid:a/r.git"


def test_moved_clone_adopts_its_old_scope(tmp_path: Path, home: Path) -> None:
    origin = "https://example.invalid/acme/app.git"
    old_repo = _git_repo(tmp_path / "old" / "app", origin)
    old = ensure_scope_root(old_repo)
    (old.root / "core-state.json").write_text('{"kept": true}')
    new_repo = tmp_path / "new" / "app"
    new_repo.parent.mkdir()
    os.rename(old_repo, new_repo)

    result = open_scope_root(new_repo)
    assert result.adopted_from == old.root
    assert not old.root.exists()
    assert (result.paths.root / "core-state.json").read_text() == '{"kept": true}'
    assert result.paths.project_root_marker.read_text().strip() == str(new_repo.resolve())


def test_live_clones_never_share(tmp_path: Path, home: Path) -> None:
    origin = "https://example.invalid/acme/app.git"
    first = ensure_scope_root(_git_repo(tmp_path / "a" / "app", origin))
    (first.root / "core-state.json").write_text("{}")
    second = open_scope_root(_git_repo(tmp_path / "b" / "app", origin))
    assert second.created
    assert second.adopted_from is None
    assert second.paths.root != first.root
    assert (first.root / "core-state.json").exists()
    assert first.project_root_marker.read_text().strip() == str((tmp_path / "a" / "app").resolve())


def test_scope_without_root_marker_is_adopted_but_other_origins_are_not(
    tmp_path: Path, home: Path
) -> None:
    stray = home / "app-000000000000"
    stray.mkdir(parents=True)
    (stray / ".git-origin").write_text("https://example.invalid/acme/app.git\n")
    other = home / "app-111111111111"
    other.mkdir()
    (other / ".git-origin").write_text("https://example.invalid/someone-else/app.git\n")
    result = open_scope_root(_git_repo(tmp_path / "app", "https://example.invalid/acme/app.git"))
    assert result.adopted_from == stray
    assert other.exists()


def test_root_on_an_unmounted_volume_counts_as_live(tmp_path: Path, home: Path) -> None:
    mount_parent = Path("/mnt")
    if not mount_parent.is_dir():
        pytest.skip("no /mnt on this machine")
    absent_volume = mount_parent / "animus-test-volume-that-is-not-mounted"
    assert not absent_volume.exists()
    scope = home / "app-222222222222"
    scope.mkdir(parents=True)
    (scope / ".git-origin").write_text("https://example.invalid/acme/app.git\n")
    (scope / ".project-root").write_text(f"{absent_volume / 'app'}\n")
    result = open_scope_root(_git_repo(tmp_path / "app", "https://example.invalid/acme/app.git"))
    assert result.created
    assert scope.exists()


def test_missing_project_root_is_a_clear_error(tmp_path: Path, home: Path) -> None:
    with pytest.raises(StateWriteError, match="is not an existing directory"):
        ensure_scope_root(tmp_path / "nope")
    assert not home.exists() or not any(home.iterdir())


def test_home_that_cannot_be_created_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    monkeypatch.setenv("ANIMUS_HOME", str(blocker / "home"))
    repo = tmp_path / "repo"
    repo.mkdir()
    with pytest.raises(StateWriteError, match="cannot create the runtime directory"):
        ensure_scope_root(repo)
