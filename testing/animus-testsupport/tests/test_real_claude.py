"""The real `claude` CLI (npm @anthropic-ai/claude-code) driven offline by the scripted server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from animus_testsupport import ScriptedModelServer, require_cli
from animus_testsupport.realcli import CliRun, claude_argv, claude_env, run_cli

pytestmark = pytest.mark.realcli

IS_ROOT = os.geteuid() == 0


@pytest.fixture
def claude() -> Path:
    return require_cli("claude")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def run_claude(
    claude: Path,
    server: ScriptedModelServer,
    home: Path,
    work: Path,
    prompt: str,
    *,
    sandbox: bool = False,
    **argv_options: Any,
) -> CliRun:
    return run_cli(
        claude_argv(claude, prompt, **argv_options),
        env=claude_env(server.base_url, home, sandbox=sandbox),
        cwd=work,
        timeout=90,
    )


def test_streams_text_and_reports_the_session(claude: Path, home: Path, work: Path) -> None:
    with ScriptedModelServer(
        [{"text": "Hello from the scripted model, in several chunks.", "chunk_size": 8}]
    ) as server:
        run = run_claude(claude, server, home, work, "say hello")
    assert run.returncode == 0, run.describe()
    init = run.events[0]
    assert (init["type"], init["subtype"]) == ("system", "init"), run.describe()
    assert init["session_id"]
    assert init["model"] == "claude-sonnet-4-6"
    texts = [
        block["text"]
        for event in run.of_type("assistant")
        for block in event["message"]["content"]
        if block["type"] == "text"
    ]
    assert texts == ["Hello from the scripted model, in several chunks."]
    (result,) = run.of_type("result")
    assert result["subtype"] == "success"
    assert result["is_error"] is False
    assert result["result"] == "Hello from the scripted model, in several chunks."
    assert result["session_id"] == init["session_id"]
    (request,) = server.model_requests
    assert request.body["stream"] is True
    assert request.body["model"] == "claude-sonnet-4-6"
    assert "say hello" in request.body_text()
    assert request.headers["x-api-key"] == "<redacted>"
    assert server.remaining_turns == 0


def test_tool_loop_really_writes_the_file_and_runs_bash(
    claude: Path, home: Path, work: Path
) -> None:
    target = work / "hello.txt"
    script = [
        {
            "text": "I will write the file.",
            "tool_calls": [
                {"name": "Write", "input": {"file_path": str(target), "content": "hi\n"}}
            ],
        },
        {
            "match": {"contains": "File created successfully"},
            "tool_calls": [
                {
                    "name": "Edit",
                    "input": {
                        "file_path": str(target),
                        "old_string": "hi",
                        "new_string": "hi there",
                    },
                }
            ],
        },
        {
            "match": {"contains": "has been updated successfully"},
            "tool_calls": [
                {
                    "name": "Bash",
                    "input": {
                        "command": "cat hello.txt && echo bash-ran > ran.txt",
                        "description": "Show the file and leave a marker",
                    },
                }
            ],
        },
        {"match": {"contains": "hi there"}, "text": "Wrote hello.txt and ran bash."},
    ]
    with ScriptedModelServer(script) as server:
        run = run_claude(
            claude, server, home, work, "make a file", sandbox=True, skip_permissions=True
        )
    assert run.returncode == 0, run.describe()
    assert target.read_text() == "hi there\n"
    assert (work / "ran.txt").read_text() == "bash-ran\n"
    tool_uses = [
        block["name"]
        for event in run.of_type("assistant")
        for block in event["message"]["content"]
        if block["type"] == "tool_use"
    ]
    assert tool_uses == ["Write", "Edit", "Bash"]
    results = [
        block
        for event in run.of_type("user")
        for block in event["message"]["content"]
        if block["type"] == "tool_result"
    ]
    assert len(results) == 3, run.describe()
    assert not any(r.get("is_error") for r in results), run.describe()
    # The tool results travelled back to the model: the server saw them.
    requests = server.model_requests
    assert [r.turn for r in requests] == [0, 1, 2, 3]
    assert "File created successfully" in requests[1].body_text()
    assert "hi there" in requests[3].body_text()  # the Bash output went back to the model
    assert run.of_type("result")[0]["result"] == "Wrote hello.txt and ran bash."
    assert server.remaining_turns == 0


def test_resume_continues_the_same_conversation(claude: Path, home: Path, work: Path) -> None:
    script = [
        {"match": {"contains": "remember BLUEBIRD"}, "text": "Noted: BLUEBIRD."},
        {"match": {"contains": "what word"}, "text": "The word was BLUEBIRD."},
    ]
    with ScriptedModelServer(script) as server:
        first = run_claude(claude, server, home, work, "remember BLUEBIRD")
        assert first.returncode == 0, first.describe()
        session_id = first.events[0]["session_id"]
        second = run_claude(claude, server, home, work, "what word", resume=session_id)
    assert second.returncode == 0, second.describe()
    assert second.of_type("result")[0]["result"] == "The word was BLUEBIRD."
    assert second.of_type("result")[0]["session_id"] == session_id
    resumed = server.model_requests[-1]
    roles = [m["role"] for m in resumed.body["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert "remember BLUEBIRD" in resumed.body_text()
    assert "Noted: BLUEBIRD." in resumed.body_text()


@pytest.mark.parametrize("status", [500, 400])
def test_model_error_surfaces_as_an_error_result(
    claude: Path, home: Path, work: Path, status: int
) -> None:
    script = {
        "turns": [{"error": {"status": status, "message": f"scripted failure {status}"}}],
        # claude retries some 400s with a reduced request; those get the same error.
        "default": {"error": {"status": status, "message": f"scripted failure {status}"}},
    }
    with ScriptedModelServer(script) as server:
        run = run_claude(claude, server, home, work, "hi")
    assert run.returncode == 1, run.describe()
    (result,) = run.of_type("result")
    assert result["is_error"] is True
    assert f"API Error: {status} scripted failure {status}" in result["result"]
    assert server.model_requests[0].status == status


def test_slow_stream_still_completes(claude: Path, home: Path, work: Path) -> None:
    script = [{"text": "slow " * 6, "chunk_size": 5, "chunk_delay": 0.05}]
    with ScriptedModelServer(script) as server:
        run = run_claude(claude, server, home, work, "go slowly")
    assert run.returncode == 0, run.describe()
    assert run.of_type("result")[0]["result"] == "slow " * 6


def test_timeout_mid_stream_kills_the_whole_process_group(
    claude: Path, home: Path, work: Path
) -> None:
    # 200 one-character frames, 0.5 s apart: the stream would take 100 s.
    script = [{"text": "z" * 200, "chunk_size": 1, "chunk_delay": 0.5}]
    with ScriptedModelServer(script) as server:
        run = run_cli(
            claude_argv(claude, "stream slowly"),
            env=claude_env(server.base_url, home),
            cwd=work,
            timeout=4,
        )
        assert run.timed_out, run.describe()
        assert run.returncode < 0  # killed by a signal
        assert server.model_requests[0].body["stream"] is True
    assert run.pgid is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(run.pgid, 0)


@pytest.mark.skipif(not IS_ROOT, reason="claude's refusal only applies to root")
@pytest.mark.parametrize(
    "options",
    [{"skip_permissions": True}, {"permission_mode": "bypassPermissions"}],
    ids=["dangerously-skip-permissions", "bypassPermissions"],
)
def test_root_needs_is_sandbox_to_skip_permissions(
    claude: Path, home: Path, work: Path, options: dict[str, Any]
) -> None:
    with ScriptedModelServer({"default": {"text": "unused"}}) as server:
        refused = run_claude(claude, server, home, work, "hi", **options)
        allowed = run_claude(claude, server, home, work, "hi", sandbox=True, **options)
    assert refused.returncode == 1
    assert "cannot be used with root/sudo privileges" in refused.stderr
    assert allowed.returncode == 0, allowed.describe()


@pytest.mark.parametrize(("mode", "written"), [("acceptEdits", True), ("default", False)])
def test_permission_modes_without_sandbox(
    claude: Path, home: Path, work: Path, mode: str, written: bool
) -> None:
    target = work / "edit.txt"
    script = [
        {"tool_calls": [{"name": "Write", "input": {"file_path": str(target), "content": "x"}}]},
        {"text": "done"},
    ]
    with ScriptedModelServer(script) as server:
        run = run_claude(claude, server, home, work, "write it", permission_mode=mode)
    assert run.returncode == 0, run.describe()
    assert target.exists() is written
    (result,) = run.of_type("result")
    assert bool(result.get("permission_denials")) is not written
