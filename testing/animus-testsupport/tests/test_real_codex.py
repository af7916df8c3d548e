"""The real `codex` CLI (npm @openai/codex) driven offline by the scripted server."""

from __future__ import annotations

from pathlib import Path

import pytest

from animus_testsupport import ScriptedModelServer, require_cli
from animus_testsupport.realcli import (
    CODEX_MODEL,
    CliRun,
    codex_argv,
    codex_env,
    run_cli,
    write_codex_config,
)

pytestmark = pytest.mark.realcli


@pytest.fixture
def codex() -> Path:
    return require_cli("codex")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def run_codex(
    codex: Path,
    server: ScriptedModelServer,
    tmp_path: Path,
    work: Path,
    prompt: str,
    *,
    resume: str | None = None,
) -> CliRun:
    codex_home = tmp_path / "codex-home"
    write_codex_config(codex_home, server.openai_base_url)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return run_cli(
        codex_argv(codex, prompt, resume=resume),
        env=codex_env(codex_home, home),
        cwd=work,
        timeout=90,
    )


def test_text_turn(codex: Path, tmp_path: Path, work: Path) -> None:
    with ScriptedModelServer(
        [{"text": "Hello from the scripted model.", "chunk_size": 6}]
    ) as server:
        run = run_codex(codex, server, tmp_path, work, "say hello")
    assert run.returncode == 0, run.describe()
    types = [e["type"] for e in run.events]
    assert types == ["thread.started", "turn.started", "item.completed", "turn.completed"], (
        run.describe()
    )
    assert run.events[0]["thread_id"]
    assert run.events[2]["item"] == {
        "id": run.events[2]["item"]["id"],
        "type": "agent_message",
        "text": "Hello from the scripted model.",
    }
    usage = run.events[3]["usage"]
    assert usage["input_tokens"] > 0
    assert usage["output_tokens"] > 0
    (request,) = server.model_requests
    assert request.path == "/v1/responses"
    assert request.body["model"] == CODEX_MODEL
    assert request.body["stream"] is True
    assert request.headers["authorization"] == "<redacted>"
    assert "say hello" in request.body_text()


def test_function_call_really_runs_the_command(codex: Path, tmp_path: Path, work: Path) -> None:
    script = [
        {
            "thinking": "Create the file with a shell command.",
            "tool_calls": [
                {
                    "name": "exec_command",
                    "input": {"cmd": "echo codex-ran > made.txt && cat made.txt"},
                }
            ],
        },
        {"match": {"contains": "codex-ran"}, "text": "Created made.txt."},
    ]
    with ScriptedModelServer(script) as server:
        run = run_codex(codex, server, tmp_path, work, "make a file")
    assert run.returncode == 0, run.describe()
    assert (work / "made.txt").read_text() == "codex-ran\n"
    completed = [e["item"] for e in run.of_type("item.completed")]
    assert [i["type"] for i in completed] == ["reasoning", "command_execution", "agent_message"]
    command = completed[1]
    assert command["exit_code"] == 0
    assert command["status"] == "completed"
    assert "codex-ran" in command["aggregated_output"]
    assert "echo codex-ran" in command["command"]
    # The function output went back to the model in the next request.
    follow_up = server.model_requests[1]
    outputs = [i for i in follow_up.body["input"] if i.get("type") == "function_call_output"]
    assert len(outputs) == 1
    assert "codex-ran" in outputs[0]["output"]
    assert server.remaining_turns == 0


def test_apply_patch_edits_a_file(codex: Path, tmp_path: Path, work: Path) -> None:
    (work / "notes.txt").write_text("one\n")
    patch = "*** Begin Patch\n*** Update File: notes.txt\n@@\n-one\n+two\n*** End Patch\n"
    script = [
        {"tool_calls": [{"name": "apply_patch", "custom": True, "raw_input": patch}]},
        {"match": {"contains": "Success. Updated the following files"}, "text": "Edited."},
    ]
    with ScriptedModelServer(script) as server:
        run = run_codex(codex, server, tmp_path, work, "edit notes.txt")
    assert run.returncode == 0, run.describe()
    assert (work / "notes.txt").read_text() == "two\n"
    changes = [
        e["item"] for e in run.of_type("item.completed") if e["item"]["type"] == "file_change"
    ]
    assert changes[0]["changes"] == [{"path": str(work / "notes.txt"), "kind": "update"}]
    assert changes[0]["status"] == "completed"
    outputs = [
        i
        for i in server.model_requests[1].body["input"]
        if i.get("type") == "custom_tool_call_output"
    ]
    assert len(outputs) == 1


def test_exec_resume_continues_the_thread(codex: Path, tmp_path: Path, work: Path) -> None:
    script = [
        {"match": {"contains": "remember BLUEBIRD"}, "text": "Noted: BLUEBIRD."},
        {"match": {"contains": "what word"}, "text": "The word was BLUEBIRD."},
    ]
    with ScriptedModelServer(script) as server:
        first = run_codex(codex, server, tmp_path, work, "remember BLUEBIRD")
        assert first.returncode == 0, first.describe()
        thread_id = first.events[0]["thread_id"]
        second = run_codex(codex, server, tmp_path, work, "what word", resume=thread_id)
    assert second.returncode == 0, second.describe()
    assert second.events[0] == {"type": "thread.started", "thread_id": thread_id}
    messages = [e["item"]["text"] for e in second.of_type("item.completed")]
    assert messages == ["The word was BLUEBIRD."]
    resumed = server.model_requests[-1].body_text()
    assert "remember BLUEBIRD" in resumed
    assert "Noted: BLUEBIRD." in resumed


# codex shows a 4xx body verbatim but replaces a 5xx with a generic "high demand" notice.
@pytest.mark.parametrize(
    ("status", "shown"),
    [(400, "scripted failure 400"), (500, "high demand"), (429, "last status: 429")],
)
def test_model_error_fails_the_turn(
    codex: Path, tmp_path: Path, work: Path, status: int, shown: str
) -> None:
    script = [{"error": {"status": status, "message": f"scripted failure {status}"}}]
    with ScriptedModelServer(script) as server:
        run = run_codex(codex, server, tmp_path, work, "hi")
    assert run.returncode == 1, run.describe()
    (failed,) = run.of_type("turn.failed")
    assert shown in failed["error"]["message"], run.describe()
    assert [e["message"] for e in run.of_type("error")] == [failed["error"]["message"]]
    assert [r.status for r in server.model_requests] == [status]
