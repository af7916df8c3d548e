"""Developer and CI sessions for the Animus workspace.

`nox` runs every default session; `nox -l` lists them. Each `tests-<distribution>` session
installs only that distribution and its declared dependencies from `uv.lock`, so a missing
dependency declaration fails there even when the whole workspace would hide it.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import nox

ROOT = pathlib.Path(__file__).parent
nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"


def _members() -> list[pathlib.Path]:
    """Published distributions: the kernel packages and the plugins."""
    dirs = sorted(ROOT.glob("packages/*/pyproject.toml")) + sorted(
        ROOT.glob("plugins/*/pyproject.toml")
    )
    return [p.parent for p in dirs]


def _test_support() -> list[pathlib.Path]:
    """Unpublished workspace members that exist for tests (scripted model server, ...)."""
    return [p.parent for p in sorted(ROOT.glob("testing/*/pyproject.toml"))]


def _sync(session: nox.Session, *args: str) -> None:
    """Install from uv.lock into this session's virtualenv (never re-resolving)."""
    session.run_install(
        "uv",
        "sync",
        "--frozen",
        "--no-default-groups",
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        external=True,
    )


def _test_tools(session: nox.Session) -> None:
    """pytest and friends, pinned by uv.lock through the root `test` group."""
    # Not session.create_tmp(): that points TMPDIR inside this checkout, and tests that make
    # "non-git" temp directories would then find the workspace repository above them.
    reqs = pathlib.Path(tempfile.mkdtemp(prefix="animus-nox-")) / "test-requirements.txt"
    session.run_install(
        "uv",
        "export",
        "--frozen",
        "--only-group",
        "test",
        "--no-hashes",
        "--no-emit-project",
        "-o",
        str(reqs),
        "--quiet",
        external=True,
    )
    session.install("-r", str(reqs))


# Sessions whose tests drive the real agent CLIs from npm install them first (pinned, into
# the ignored .cache/agent-clis; idempotent and fast when already present).
NEEDS_AGENT_CLIS = {
    "animus-testsupport",
    "animus-provider-claude",
    "animus-provider-codex",
    "animus-provider-gemini",
    "animus-provider-opencode",
}


def _install_agent_clis(session: nox.Session) -> None:
    session.run("bash", str(ROOT / "tools" / "install-agent-clis.sh"), external=True)


def _isolated_home_env() -> dict[str, str]:
    """A throwaway ANIMUS_HOME: a test that forgets its own never writes to ~/.animus.

    It lives under the user's home, not /tmp: some agent CLIs (gemini) ignore settings files
    below a group- or world-writable directory, and the provider plugins refuse that case.
    """
    base = pathlib.Path.home() / ".cache" / "animus-nox"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    return {"ANIMUS_HOME": tempfile.mkdtemp(prefix="home-", dir=base)}


def _make_member_session(member: pathlib.Path) -> None:
    name = member.name

    @nox.session(name=f"tests-{name}", python=PYTHON)
    def _tests(session: nox.Session) -> None:
        _sync(session, "--package", name, "--no-install-workspace")
        # The member itself and its workspace siblings, exactly as declared.
        _sync(session, "--package", name, "--inexact")
        _test_tools(session)
        if name in NEEDS_AGENT_CLIS:
            _install_agent_clis(session)
        tests = member / "tests"
        session.run(
            "pytest",
            str(tests),
            "-p",
            "no:cacheprovider",
            *session.posargs,
            env=_isolated_home_env(),
            success_codes=[0, 5] if not any(tests.glob("test_*.py")) else [0],
        )

    _tests.__doc__ = f"Run {name}'s own tests with only its declared dependencies."


for _member in [*_members(), *_test_support()]:
    _make_member_session(_member)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the whole tree."""
    _sync(session, "--only-group", "dev")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every member's source."""
    _sync(session, "--all-packages", "--group", "dev")
    sources = [str(m / "src") for m in [*_members(), *_test_support()]]
    session.run("mypy", *sources)


@nox.session(python=PYTHON)
def layers(session: nox.Session) -> None:
    """import-linter: layer arrows never point up; plugins never import the kernel."""
    _sync(session, "--all-packages", "--group", "dev")
    session.run("python", "tools/layers.py", *session.posargs)


@nox.session(python=PYTHON)
def integration(session: nox.Session) -> None:
    """Cross-package end-to-end tests (real git, real processes, real agent CLIs)."""
    _sync(session, "--all-packages", "--group", "dev")
    _install_agent_clis(session)
    session.run(
        "pytest",
        "tests-integration",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env=_isolated_home_env(),
    )


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Build every wheel and sdist, install animus-cli from them into a fresh venv."""
    dist = pathlib.Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for member in _members():
        session.run("uv", "build", "--quiet", "--out-dir", str(dist), str(member), external=True)
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    if len(wheels) != len(_members()) or len(sdists) != len(_members()):
        session.error(f"expected a wheel and an sdist per member, got {wheels} {sdists}")
    with tempfile.TemporaryDirectory() as tmp:
        venv = pathlib.Path(tmp) / "venv"
        session.run("uv", "venv", "--quiet", "--python", PYTHON, str(venv), external=True)
        py = str(venv / "bin" / "python")
        # Third-party dependencies come from the lock; the animus-* ones only from dist/.
        reqs = pathlib.Path(tmp) / "third-party.txt"
        session.run(
            "uv",
            "export",
            "--frozen",
            "--package",
            "animus-cli",
            "--no-dev",
            "--no-hashes",
            "--no-emit-workspace",
            "--quiet",
            "-o",
            str(reqs),
            external=True,
        )
        session.run(
            "uv", "pip", "install", "--quiet", "--python", py, "-r", str(reqs), external=True
        )
        session.run(
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            py,
            "--no-index",
            "--find-links",
            str(dist),
            "animus-cli",
            external=True,
        )
        out = session.run(str(venv / "bin" / "animus"), "--version", silent=True, external=True)
        session.log(f"installed from wheels: {str(out).strip()}")
        if not str(out).strip().startswith("animus"):
            session.error(f"unexpected version output: {out!r}")


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks: print figures and save JSON under bench/results/."""
    _sync(session, "--all-packages", "--group", "dev")
    env = {"ANIMUS_BENCH_QUICK": os.environ.get("ANIMUS_BENCH_QUICK", "")}
    scripts = sorted((ROOT / "bench").glob("bench_*.py"))
    if session.posargs:
        scripts = [s for s in scripts if any(a in s.name for a in session.posargs)]
    for script in scripts:
        session.run("python", str(script), env=env)
