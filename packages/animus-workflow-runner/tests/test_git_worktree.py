from __future__ import annotations

from pathlib import Path

import pytest

from animus_protocol.envelope import ConflictError, InvalidInputError
from animus_workflow_runner.git import ensure_worktree
from animus_workflow_runner.git.testing import commit_file, git, init_repo, isolated_git_environment


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in isolated_git_environment(tmp_path).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "project")


@pytest.fixture
def wt_dir(tmp_path: Path) -> Path:
    return tmp_path / "scope" / "worktrees"


def test_creates_worktree_on_task_branch(repo: Path, wt_dir: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    info = ensure_worktree(repo, wt_dir, "TASK-1")
    assert info.created is True
    assert info.mode_effective == "worktree"
    assert info.path == wt_dir / "task-TASK-1"
    assert info.branch == "animus/TASK-1"
    assert info.base_ref == "main"
    assert info.base_commit == head
    assert (info.path / "README.md").read_text() == "hello\n"
    assert git(info.path, "symbolic-ref", "--short", "HEAD") == "animus/TASK-1"
    # The operator's checkout stays on main.
    assert git(repo, "symbolic-ref", "--short", "HEAD") == "main"


def test_second_call_reuses_the_worktree(repo: Path, wt_dir: Path) -> None:
    first = ensure_worktree(repo, wt_dir, "TASK-1")
    (first.path / "work.txt").write_text("in progress\n")
    second = ensure_worktree(repo, wt_dir, "TASK-1")
    assert second.created is False
    assert second.path == first.path
    assert second.branch == first.branch
    assert (second.path / "work.txt").read_text() == "in progress\n"
    assert git(repo, "worktree", "list").count("task-TASK-1") == 1


def test_reuse_reports_fork_point_after_base_moves(repo: Path, wt_dir: Path) -> None:
    first = ensure_worktree(repo, wt_dir, "T")
    commit_file(repo, "later.txt", "x\n")
    again = ensure_worktree(repo, wt_dir, "T")
    assert again.base_commit == first.base_commit


def test_base_ref_selects_the_fork_point(repo: Path, wt_dir: Path) -> None:
    git(repo, "branch", "release")
    commit_file(repo, "main-only.txt", "new\n")
    info = ensure_worktree(repo, wt_dir, "TASK-2", base_ref="release")
    assert info.base_ref == "release"
    assert info.base_commit == git(repo, "rev-parse", "release")
    assert not (info.path / "main-only.txt").exists()


def test_unknown_base_ref_is_a_clear_error(repo: Path, wt_dir: Path) -> None:
    with pytest.raises(InvalidInputError, match="no-such-branch"):
        ensure_worktree(repo, wt_dir, "T", base_ref="no-such-branch")


def test_default_branch_is_the_main_checkout_branch(tmp_path: Path, wt_dir: Path) -> None:
    repo = init_repo(tmp_path / "p", branch="trunk")
    info = ensure_worktree(repo, wt_dir, "T")
    assert info.base_ref == "trunk"


def test_remote_default_branch_is_preferred(tmp_path: Path, wt_dir: Path) -> None:
    upstream = init_repo(tmp_path / "upstream", branch="develop")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(upstream), str(clone))
    git(clone, "switch", "--quiet", "-c", "feature")
    commit_file(clone, "feature.txt", "f\n")
    info = ensure_worktree(clone, wt_dir, "T")
    assert info.base_ref == "develop"
    assert not (info.path / "feature.txt").exists()


def test_existing_branch_is_reused(repo: Path, wt_dir: Path) -> None:
    git(repo, "branch", "animus/T-9")
    git(repo, "switch", "--quiet", "animus/T-9")
    tip = commit_file(repo, "earlier.txt", "earlier work\n")
    git(repo, "switch", "--quiet", "main")
    info = ensure_worktree(repo, wt_dir, "T-9")
    assert info.created is True
    assert git(info.path, "rev-parse", "HEAD") == tip
    assert (info.path / "earlier.txt").exists()


def test_branch_checked_out_elsewhere_names_the_path(
    repo: Path, wt_dir: Path, tmp_path: Path
) -> None:
    other = tmp_path / "elsewhere"
    git(repo, "worktree", "add", "--quiet", "-b", "animus/T-3", str(other))
    with pytest.raises(ConflictError) as err:
        ensure_worktree(repo, wt_dir, "T-3")
    assert str(other) in str(err.value)
    assert not (wt_dir / "task-T-3").exists()


def test_branch_checked_out_in_main_checkout_is_refused(repo: Path, wt_dir: Path) -> None:
    git(repo, "switch", "--quiet", "-c", "animus/T-4")
    with pytest.raises(ConflictError, match="checked out in another worktree"):
        ensure_worktree(repo, wt_dir, "T-4")


def test_foreign_directory_at_the_path_is_left_alone(repo: Path, wt_dir: Path) -> None:
    target = wt_dir / "task-T"
    target.mkdir(parents=True)
    (target / "precious.txt").write_text("mine\n")
    with pytest.raises(ConflictError, match="refusing to touch it"):
        ensure_worktree(repo, wt_dir, "T")
    assert (target / "precious.txt").read_text() == "mine\n"


def test_worktree_of_another_repo_at_the_path_is_refused(
    repo: Path, wt_dir: Path, tmp_path: Path
) -> None:
    other = init_repo(tmp_path / "other")
    git(other, "worktree", "add", "--quiet", "-b", "animus/T", str(wt_dir / "task-T"))
    with pytest.raises(ConflictError):
        ensure_worktree(repo, wt_dir, "T")
    assert git(wt_dir / "task-T", "rev-parse", "--show-toplevel") == str(wt_dir / "task-T")


def test_stale_registration_is_pruned_and_recreated(repo: Path, wt_dir: Path) -> None:
    import shutil

    first = ensure_worktree(repo, wt_dir, "T")
    shutil.rmtree(first.path)  # the directory vanished (disk cleanup, reboot of a tmpfs)
    again = ensure_worktree(repo, wt_dir, "T")
    assert again.created is True
    assert (again.path / "README.md").exists()


def test_interrupted_creation_is_redone(repo: Path, wt_dir: Path) -> None:
    first = ensure_worktree(repo, wt_dir, "T")
    admin = Path(git(first.path, "rev-parse", "--absolute-git-dir"))
    # What `git worktree add` leaves when killed mid-checkout: the lock and a partial tree.
    (admin / "locked").write_text("initializing")
    (first.path / "README.md").unlink()
    again = ensure_worktree(repo, wt_dir, "T")
    assert again.created is True
    assert (again.path / "README.md").read_text() == "hello\n"


def test_not_a_git_repo_auto_falls_back(tmp_path: Path, wt_dir: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    info = ensure_worktree(plain, wt_dir, "T", mode="auto")
    assert info.mode_effective == "project_root"
    assert info.path == plain
    assert info.reason is not None
    assert "not a git repository" in info.reason
    assert not wt_dir.exists()


def test_not_a_git_repo_required_fails_fast(tmp_path: Path, wt_dir: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InvalidInputError, match="required"):
        ensure_worktree(plain, wt_dir, "T", mode="required")


def test_repo_without_commits(tmp_path: Path, wt_dir: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "--quiet", "-b", "main")
    info = ensure_worktree(empty, wt_dir, "T")
    assert info.mode_effective == "project_root"
    assert "no commits" in (info.reason or "")
    with pytest.raises(InvalidInputError, match="no commits"):
        ensure_worktree(empty, wt_dir, "T", mode="required")


def test_skip_uses_the_project_root(repo: Path, wt_dir: Path) -> None:
    info = ensure_worktree(repo, wt_dir, "T", mode="skip")
    assert info.mode_effective == "project_root"
    assert info.path == repo
    assert info.branch == "main"
    assert not wt_dir.exists()


def test_bad_inputs(repo: Path, wt_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown worktree mode"):
        ensure_worktree(repo, wt_dir, "T", mode="sometimes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="does not exist"):
        ensure_worktree(tmp_path / "missing", wt_dir, "T")
    with pytest.raises(InvalidInputError, match="subject id is empty"):
        ensure_worktree(repo, wt_dir, "  ")


def test_odd_subject_ids_are_sanitized(repo: Path, wt_dir: Path) -> None:
    info = ensure_worktree(repo, wt_dir, "linear:ENG 7/..x")
    assert info.branch.startswith("animus/linear-ENG-7-.x-")  # lossy: a digest is appended
    assert info.path.parent == wt_dir
    other = ensure_worktree(repo, wt_dir, "linear-ENG-7-.x")
    assert other.branch == "animus/linear-ENG-7-.x"
    assert other.path != info.path


def test_directory_inside_another_repo_is_not_that_repo(repo: Path, wt_dir: Path) -> None:
    # A project that is not under git but sits inside some repository (a dotfiles repo at
    # $HOME, say) must never get worktrees or branches in that enclosing repository.
    nested = repo / "not-a-project-repo"
    nested.mkdir()
    info = ensure_worktree(nested, wt_dir, "T")
    assert info.mode_effective == "project_root"
    assert "inside the repository" in (info.reason or "")
    with pytest.raises(InvalidInputError, match="inside the repository"):
        ensure_worktree(nested, wt_dir, "T", mode="required")
    assert git(repo, "branch", "--list", "animus/*") == ""
    assert not wt_dir.exists()
