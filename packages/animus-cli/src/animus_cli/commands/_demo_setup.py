"""Creating the demo's throwaway project: the git repository with the ``calc`` package,
``.animus/`` (workflow, mock scripts, a launcher for the scripted provider) and the tasks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from animus_cli.commands import _demo_project as demo_project
from animus_cli.commands._demo_project import DEMO_MARKER, PROJECT_FILES, TASKS, write_mock_scripts
from animus_protocol.envelope import InvalidInputError, UnavailableError

__all__ = ["check_target", "git", "make_project"]

_GIT_IDENTITY = ("-c", "user.name=Animus Demo", "-c", "user.email=demo@animus.invalid")
# The user's environment must not steer the demo: their ANIMUS_* settings (plugin dirs, a
# runner override, test hooks) and git's repository redirections are dropped.
_KEPT_ANIMUS_VARS = frozenset({"ANIMUS_DEBUG"})
_GIT_REDIRECTS = frozenset({"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"})


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_REDIRECTS}
    argv = ["git", *_GIT_IDENTITY, "-c", "commit.gpgsign=false", *args]
    try:
        done = subprocess.run(
            argv, cwd=cwd, check=True, capture_output=True, text=True, timeout=30, env=env
        )
    except FileNotFoundError:
        raise UnavailableError(
            "the demo needs git, which is not on PATH", hint="install git and try again"
        ) from None
    except subprocess.CalledProcessError as exc:
        raise UnavailableError(
            f"git {' '.join(args)} failed in {cwd}: {exc.stderr.strip() or exc.returncode}",
            details={"argv": argv, "exit_code": exc.returncode},
        ) from None
    return done.stdout


def _mock_launcher() -> str:
    """A launcher for the scripted provider, put in the project's ``.animus/plugins/``.

    The provider ships as its own distribution (installed with the workspace); a source
    checkout without it installed still has its source next to this package.
    """
    import importlib.util

    import animus_cli

    source = Path(animus_cli.__file__).resolve().parents[4] / "plugins/animus-provider-mock/src"
    if importlib.util.find_spec("animus_provider_mock") is None and not source.is_dir():
        raise UnavailableError(
            "the demo needs the scripted provider animus-provider-mock, which is not installed",
            hint="install it next to animus-cli (pip install animus-provider-mock), or run "
            "the demo from the repository with 'uv run animus demo'",
        )
    return (
        f"#!{sys.executable}\n"
        "import sys\n"
        "try:\n"
        "    import animus_provider_mock\n"
        "except ImportError:\n"
        f"    sys.path.insert(0, {str(source)!r})\n"
        "from animus_provider_mock import main\n"
        "main()\n"
    )


def check_target(target: Path) -> None:
    """``--dir`` must be new, empty, or an earlier demo's project (which is replaced)."""
    if target.exists() and not target.is_dir():
        raise InvalidInputError(f"--dir {target} is a file", hint="pass a directory path")
    if not target.exists() or not any(target.iterdir()):
        return
    if not (target / DEMO_MARKER).is_file():
        raise InvalidInputError(
            f"--dir {target} is not empty and holds no earlier demo "
            f"(no {DEMO_MARKER}); the demo only writes into a new or empty directory",
            details={"dir": str(target)},
            hint="pass a new path, or leave --dir out for a temporary directory",
        )
    shutil.rmtree(target)


def _demo_env(home: Path, scripts: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if (not k.startswith("ANIMUS_") or k in _KEPT_ANIMUS_VARS) and k not in _GIT_REDIRECTS
    }
    env["ANIMUS_HOME"] = str(home)
    env["ANIMUS_MOCK_SCRIPT_DIR"] = str(scripts)
    return env


def make_project(project: Path, home: Path, n_tasks: int) -> tuple[dict[str, str], list[str]]:
    """The repository, ``.animus/`` (workflow, scripts, provider), the tasks; returns the
    environment every run gets and the task ids."""
    from animus_cli.commands.init import initialize
    from animus_core.hub import ServiceHub

    launcher_text = _mock_launcher()
    project.mkdir(parents=True, exist_ok=True)
    for name, text in PROJECT_FILES.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(project, "init", "-q")
    git(project, "symbolic-ref", "HEAD", "refs/heads/main")  # git < 2.28 has no init -b
    git(project, "add", *PROJECT_FILES)
    git(project, "commit", "-q", "--no-verify", "-m", "calc: add() and its test")
    (project / DEMO_MARKER).write_text(
        json.dumps({"animus_demo": True, "tasks": n_tasks}) + "\n", encoding="utf-8"
    )

    animus = project / ".animus"
    (animus / "plugins").mkdir(parents=True, exist_ok=True)
    (animus / "workflows.yaml").write_text(demo_project.WORKFLOWS_YAML, encoding="utf-8")
    launcher = animus / "plugins" / "animus-provider-mock"
    launcher.write_text(launcher_text, encoding="utf-8")
    launcher.chmod(0o755)
    scripts = animus / "demo-scripts"
    write_mock_scripts(scripts, n_tasks)

    env = _demo_env(home, scripts)
    initialize(project, env)
    ids: list[str] = []
    with ServiceHub(project, env=env) as hub:
        for spec in TASKS[:n_tasks]:
            task = hub.tasks.create(
                title=spec.title, description=spec.description, status="ready", priority="high"
            )
            ids.append(task.id)
            if spec.blocked_by is not None:
                hub.tasks.add_dependency(task.id, ids[spec.blocked_by], by="demo")
    return env, ids
