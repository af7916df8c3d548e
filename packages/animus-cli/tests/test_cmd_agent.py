"""``animus agent run`` with the scripted mock provider: live human output, NDJSON, real
file writes in --cwd, resume, bad input, and cancel of a real subprocess by SIGINT with no
process of the provider's group left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from animus_cli.app import run

MOCK_SRC = Path(__file__).resolve().parents[3] / "plugins" / "animus-provider-mock" / "src"


def add_mock_launcher(root: Path) -> Path:
    """Put the mock provider in ``<root>/.animus/plugins/`` as a launcher script.

    animus-cli does not depend on the mock plugin (it is a workspace root dependency), so
    the launcher imports an installed ``animus_provider_mock`` or else its source tree: the
    tests run the same in the workspace and in the isolated ``nox -s tests-animus-cli``.
    """
    path = root / ".animus" / "plugins" / "animus-provider-mock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "try:\n"
        "    import animus_provider_mock\n"
        "except ImportError:\n"
        f"    sys.path.insert(0, {str(MOCK_SRC)!r})\n"
        "from animus_provider_mock import main\n"
        "main()\n",
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


SCRIPT = """\
steps:
  - thinking: "Plan: write the file"
  - text: "Hello "
  - text: "world."
  - write_file: {path: notes/out.txt, content: "written by the mock\\n"}
  - tool_call: {name: search, arguments: {q: "animus"}}
  - tool_result: {name: search, output: "3 hits", success: true}
  - usage: {input: 120, output: 30}
  - decision: {verdict: advance, reason: "done", confidence: 0.9, risk: low, evidence: []}
resume:
  - text: "Picked up again."
"""

SLEEPING = """\
steps:
  - thinking: "about to run a long command"
  - run: {command: "sleep 120"}
  - text: "never reached"
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANIMUS_HOME", str(tmp_path / "home"))
    for name in ("ANIMUS_PLUGIN_PATH", "ANIMUS_PLUGIN_DIR", "ANIMUS_MOCK_SCRIPT_DIR"):
        monkeypatch.delenv(name, raising=False)
    add_mock_launcher(tmp_path)
    cwd = tmp_path / "work"
    cwd.mkdir()
    (tmp_path / "script.yaml").write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    return cwd


def agent(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["--project-root", ".", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_human_stream_shows_text_tools_and_summary(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = agent(
        capsys,
        "agent", "run", "--tool", "mock", "--prompt", "write notes",
        "--cwd", str(workdir), "--script", "script.yaml",
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "[thinking] Plan: write the file"
    assert lines[1] == "Hello world."  # deltas joined as they streamed, final not repeated
    assert lines[2].startswith("[tool] write_file ")
    assert lines[3].startswith("[result] write_file (ok) ")
    assert lines[4] == '[tool] search {"q": "animus"}'
    assert lines[5] == "[result] search (ok) 3 hits"
    assert out.count("Hello") == 1
    assert "tokens     120 in / 30 out" in out
    assert "verdict    advance" in out
    assert "exit code  0" in out
    # The file was really written in --cwd.
    assert (workdir / "notes" / "out.txt").read_text() == "written by the mock\n"


def test_json_mode_is_ndjson_events_then_result(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = agent(
        capsys,
        "--json", "agent", "run", "--tool", "mock", "--prompt", "write notes",
        "--cwd", str(workdir), "--script", "script.yaml", "--extra", "reasoning_effort=high",
    )  # fmt: skip
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert all(r["type"] == "event" for r in records[:-1])
    result = records[-1]
    assert result["type"] == "result"
    kinds = [r["kind"] for r in records[:-1]]
    assert kinds[:3] == ["thinking", "output", "output"]
    assert kinds.count("toolCall") == 2
    assert kinds.count("toolResult") == 2
    session_id = result["session_id"]
    assert all(r["session_id"] == session_id for r in records[:-1])
    assert result["exit_code"] == 0
    assert result["output"].replace("\n", "").startswith("Hello world.")
    assert '"kind": "phase_decision"' in result["output"]
    assert result["tokens_used"] == {"input": 120, "output": 30}
    assert result["decision_verdict"] == "advance"
    assert [c["tool"] for c in result["tool_calls"]] == ["write_file", "search"]


def test_session_id_resumes_through_agent_resume(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each invocation starts a fresh provider process, which does not know the session, so
    # the mock replays the script under the given id (a real provider resumes its own).
    code, out, _ = agent(
        capsys,
        "--json", "agent", "run", "--tool", "mock", "--prompt", "again",
        "--cwd", str(workdir), "--script", "script.yaml", "--session-id", "mock-fixed-id",
    )  # fmt: skip
    assert code == 0
    result = json.loads(out.splitlines()[-1])
    assert result["session_id"] == "mock-fixed-id"


@pytest.mark.parametrize(
    ("args", "exit_code", "needle"),
    [
        (["--tool", "nope", "--prompt", "x"], 3, "animus plugin install animus-provider-nope"),
        (["--tool", "mock"], 2, "--prompt"),
        (["--tool", "mock", "--prompt", "   "], 2, "--prompt is empty"),
        (["--tool", "mock", "--prompt", "x", "--extra", "novalue"], 2, "KEY=VALUE"),
        (["--tool", "mock", "--prompt", "x", "--script", "missing.yaml"], 3, "missing.yaml"),
        (["--tool", "mock", "--prompt", "x", "--cwd", "no/such/dir"], 2, "no/such/dir"),
        (["--tool", "mock", "--prompt", "x", "--timeout-secs", "0"], 2, "timeout-secs"),
    ],
)
def test_bad_input(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    exit_code: int,
    needle: str,
) -> None:
    code, out, err = agent(capsys, "--json", "agent", "run", *args)
    assert code == exit_code, err
    assert out == ""
    envelope = json.loads(err.splitlines()[-1])
    assert envelope["ok"] is False
    assert envelope["error"]["exit_code"] == exit_code
    assert needle in json.dumps(envelope["error"])


def test_a_failing_script_is_an_unavailable_error(
    workdir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "fail.yaml").write_text('steps:\n  - text: "trying"\n  - fail: "disk full"\n')
    code, out, err = agent(
        capsys,
        "agent", "run", "--tool", "mock", "--prompt", "x",
        "--cwd", str(workdir), "--script", "fail.yaml",
    )  # fmt: skip
    assert code == 5
    assert out.startswith("trying")
    assert "disk full" in err
    assert "Traceback" not in err


# -- a real `animus agent run` process, interrupted ---------------------------------------------


def _proc_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, pgid, cmdline) from /proc."""
    table: dict[int, tuple[int, int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), cmd)
    return table


def _descendants(root: int) -> dict[int, tuple[int, int, str]]:
    table = _proc_table()
    found: dict[int, tuple[int, int, str]] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, row in table.items():
            if row[0] == parent and pid not in found:
                found[pid] = row
                frontier.append(pid)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_cancels_a_real_session_and_leaves_no_orphans(
    workdir: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    (tmp_path / "sleeping.yaml").write_text(SLEEPING)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "animus_cli", "--project-root", str(tmp_path),
            "agent", "run", "--tool", "mock", "--prompt", "sleep", "--cwd", str(workdir),
            "--script", str(tmp_path / "sleeping.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ANIMUS_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        for _ in range(10):  # the thinking line, then the shell tool call that sleeps
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            lines.append(line)
            if line.startswith("[tool] shell"):
                break
        assert lines[-1].startswith("[tool] shell")
        # Wait (bounded) until the provider has started `sleep 120` in its own group.
        family: dict[int, tuple[int, int, str]] = {}
        for _ in range(200):
            family = _descendants(proc.pid)
            if any(cmd.startswith("sleep 120") for _, _, cmd in family.values()):
                break
            time.sleep(0.05)
        provider = [pid for pid, row in family.items() if "animus-provider-mock" in row[2]]
        assert provider, family
        groups = {pgid for _, pgid, _ in family.values()}
        proc.send_signal(signum)
        code = proc.wait(timeout=15)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 128 + signum, err
    assert "cancelled" in err
    assert "Traceback" not in err
    for pid in family:
        for _ in range(100):
            if not _alive(pid):
                break
            time.sleep(0.05)
        assert not _alive(pid), f"{pid} {family[pid]} survived"
    survivors = [
        (pid, row) for pid, row in _proc_table().items() if row[1] in groups and _alive(pid)
    ]
    assert survivors == []


def test_sigint_before_any_event_still_ends_the_provider(workdir: Path, tmp_path: Path) -> None:
    # No event has named the session yet, so the CLI cannot send agent/cancel: it stops the
    # turn and shuts the provider down (shutdown, exit, then its process group is ended).
    (tmp_path / "quiet.yaml").write_text("steps:\n  - sleep: 120\n")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "animus_cli", "--project-root", str(tmp_path), "--json",
            "agent", "run", "--tool", "mock", "--prompt", "sleep", "--cwd", str(workdir),
            "--script", str(tmp_path / "quiet.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ANIMUS_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    try:
        provider: list[int] = []
        for _ in range(400):  # bounded: up to 20 s for interpreter start-up and handshake
            family = _descendants(proc.pid)
            provider = [pid for pid, row in family.items() if "animus-provider-mock" in row[2]]
            if provider:
                break
            time.sleep(0.05)
        assert provider, "the provider never started"
        time.sleep(0.5)  # let agent/run reach the provider
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=15)
        out = proc.stdout.read() if proc.stdout else ""
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 130, err
    assert out == ""  # no events, and no result line for a cancelled session
    envelope = json.loads(err.splitlines()[-1])
    assert envelope["error"]["code"] == "cancelled"
    for _ in range(100):
        if not _alive(provider[0]):
            break
        time.sleep(0.05)
    assert not _alive(provider[0])


def test_a_closed_stdout_cancels_cleanly(workdir: Path, tmp_path: Path) -> None:
    # `animus agent run ... | head -1`: the stream's reader goes away mid-session.
    (tmp_path / "slow.yaml").write_text(
        'steps:\n  - text: "first\\n"\n  - sleep: 0.5\n  - text: "second\\n"\n'
        '  - sleep: 0.5\n  - text: "third\\n"\n'
    )
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "animus_cli", "--project-root", str(tmp_path),
            "agent", "run", "--tool", "mock", "--prompt", "x", "--cwd", str(workdir),
            "--script", str(tmp_path / "slow.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ANIMUS_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "first\n"
        proc.stdout.close()
        code = proc.wait(timeout=15)
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 128 + signal.SIGPIPE, err
    assert "Traceback" not in err
    assert "cancelled by SIGPIPE" in err
