"""The mock provider as a real subprocess, driven with raw JSON-RPC lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from animus_plugin_protocol import RpcError
from animus_provider_mock import choose_script, parse_script


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie awaiting its reaper."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Client:
    """A minimal blocking JSON-RPC client over the plugin's stdio."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "animus_provider_mock"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env or {"PATH": os.environ["PATH"]},
            start_new_session=True,
        )
        self.next_id = 0
        self.notes: list[dict[str, Any]] = []
        assert self.request(
            "initialize", {"protocol_version": "1.1.0", "host_info": {"name": "t", "version": "0"}}
        )
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def start(self, method: str, params: Any) -> int:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def wait(self, request_id: int) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("plugin closed stdout")
            message = json.loads(line)
            if "method" in message:
                self.notes.append(message)
            elif message.get("id") == request_id:
                return message

    def request(self, method: str, params: Any) -> Any:
        response = self.wait(self.start(method, params))
        if "error" in response:
            raise RpcError.from_error_object(response["error"])
        return response["result"]

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(10)


@pytest.fixture
def client() -> Any:
    c = Client()
    yield c
    if c.proc.poll() is None:
        c.close()


def test_manifest_declares_a_provider() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "animus_provider_mock", "--manifest"],
        capture_output=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    manifest = json.loads(out.stdout)
    assert manifest["name"] == "animus-provider-mock"
    assert manifest["plugin_kind"] == "provider"
    assert {"agent/run", "agent/resume", "agent/cancel"} <= set(manifest["capabilities"])


def test_default_script_answers_text_and_an_advance_decision(
    client: Client, tmp_path: Path
) -> None:
    result = client.request("agent/run", {"prompt": "do it", "cwd": str(tmp_path)})
    assert result["exit_code"] == 0
    assert result["backend"] == "mock:scripted"
    assert result["decision_verdict"] == "advance"
    decision = json.loads(result["output"].splitlines()[-1])
    assert decision["kind"] == "phase_decision"
    assert decision["verdict"] == "advance"
    kinds = [n["method"] for n in client.notes]
    assert kinds[0] == "agent/output"
    assert kinds[-1] == "agent/output"
    assert client.notes[-1]["params"]["final"] is True


def test_file_and_command_steps_really_happen_in_cwd(client: Client, tmp_path: Path) -> None:
    script = {
        "steps": [
            {"thinking": "plan"},
            {"write_file": {"path": "src/a.txt", "content": "hello world\n"}},
            {"edit_file": {"path": "src/a.txt", "old": "world", "new": "mock"}},
            {"edit_file": {"path": "src/a.txt", "old": "absent", "new": "x"}},
            {"run": {"command": "cat src/a.txt; exit 3"}},
            {"usage": {"input": 10, "output": 5, "cost": 0.01}},
            {
                "decision": {
                    "verdict": "rework",
                    "reason": "r",
                    "confidence": 0.5,
                    "risk": "low",
                    "evidence": ["e"],
                }
            },
        ]
    }
    result = client.request(
        "agent/run", {"prompt": "p", "cwd": str(tmp_path), "mock_script": script}
    )
    assert (tmp_path / "src" / "a.txt").read_text() == "hello mock\n"
    assert result["thinking"] == ["plan"]
    assert result["tokens_used"] == {"input": 10, "output": 5}
    assert result["decision_verdict"] == "rework"
    shell = next(r for r in result["tool_results"] if r["tool"] == "shell")
    assert shell["output"] == {"exit_code": 3, "output": "hello mock\n"}
    assert shell["success"] is False
    edits = [r["success"] for r in result["tool_results"] if r["tool"] == "edit_file"]
    assert edits == [True, False]


def test_paths_escaping_cwd_are_refused(client: Client, tmp_path: Path) -> None:
    with pytest.raises(RpcError) as info:
        client.request(
            "agent/run",
            {
                "prompt": "p",
                "cwd": str(tmp_path),
                "mock_script": [{"write_file": {"path": "../x", "content": ""}}],
            },
        )
    assert info.value.code == -32602
    assert "escapes the session cwd" in info.value.message
    assert not (tmp_path.parent / "x").exists()


def test_bad_requests_and_scripts_get_clear_errors(client: Client, tmp_path: Path) -> None:
    with pytest.raises(RpcError, match="needs a 'prompt'"):
        client.request("agent/run", {"cwd": str(tmp_path)})
    with pytest.raises(RpcError, match="is not a directory"):
        client.request("agent/run", {"prompt": "p", "cwd": str(tmp_path / "nope")})
    with pytest.raises(RpcError, match="unknown step 'dance'"):
        client.request(
            "agent/run", {"prompt": "p", "cwd": str(tmp_path), "mock_script": [{"dance": 1}]}
        )
    with pytest.raises(RpcError, match="cannot read mock_script_file"):
        client.request(
            "agent/run", {"prompt": "p", "cwd": str(tmp_path), "mock_script_file": "missing.yaml"}
        )


def test_fail_step_is_an_error_response(client: Client, tmp_path: Path) -> None:
    with pytest.raises(RpcError) as info:
        client.request(
            "agent/run",
            {
                "prompt": "p",
                "cwd": str(tmp_path),
                "mock_script": "- text: hi\n- fail: model exploded\n",
            },
        )
    assert info.value.code == -32603
    assert info.value.message == "model exploded"
    assert any(n["method"] == "agent/error" for n in client.notes)


def test_crash_step_kills_the_process_with_its_exit_code(tmp_path: Path) -> None:
    c = Client()
    c.start(
        "agent/run",
        {
            "prompt": "p",
            "cwd": str(tmp_path),
            "mock_script": [{"text": "a"}, {"crash": {"exit_code": 42}}],
        },
    )
    assert c.proc.wait(10) == 42


def test_cancel_stops_a_sleeping_run_and_kills_its_commands(client: Client, tmp_path: Path) -> None:
    script = [{"text": "working"}, {"run": {"command": "sleep 60 & echo $! > child.pid; wait"}}]
    run_id = client.start(
        "agent/run",
        {"prompt": "p", "cwd": str(tmp_path), "session_id": "s-1", "mock_script": script},
    )
    pid_file = tmp_path / "child.pid"
    for _ in range(500):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        time.sleep(0.01)
    child = int(pid_file.read_text())
    assert client.request("agent/cancel", {"session_id": "s-1"}) == {
        "session_id": "s-1",
        "cancelled": True,
    }
    response = client.wait(run_id)
    assert response["error"]["code"] == -32002
    for _ in range(500):  # SIGKILL is immediate; reaping by the new parent may lag
        if not _alive(child):
            break
        time.sleep(0.01)
    assert not _alive(child)
    assert client.request("agent/cancel", {"session_id": "nope"})["cancelled"] is False


def test_resume_continues_an_interrupted_session_then_plays_resume_steps(
    client: Client, tmp_path: Path
) -> None:
    script = {
        "steps": [{"text": "one"}, {"sleep": 60}, {"text": "two"}],
        "resume": [{"text": "again"}],
    }
    run_id = client.start(
        "agent/run",
        {"prompt": "p", "cwd": str(tmp_path), "session_id": "s-2", "mock_script": script},
    )
    while not client.notes:  # wait until the run has produced its first event
        client.request("$/ping", {})
    client.request("agent/cancel", {"session_id": "s-2"})
    assert client.wait(run_id)["error"]["code"] == -32002
    resumed = client.request(
        "agent/resume", {"prompt": "go on", "cwd": str(tmp_path), "session_id": "s-2"}
    )
    assert resumed["output"] == "two"  # continued after the interrupted sleep step
    again = client.request(
        "agent/resume", {"prompt": "more", "cwd": str(tmp_path), "session_id": "s-2"}
    )
    assert again["output"] == "again"
    with pytest.raises(RpcError, match="needs a 'session_id'"):
        client.request("agent/resume", {"prompt": "p", "cwd": str(tmp_path)})


def test_script_dir_matches_phase_and_prompt(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "10-review.yaml").write_text("match: {phase: review}\nsteps:\n  - text: reviewing\n")
    (scripts / "20-readme.json").write_text(
        json.dumps({"match": {"prompt_contains": "README"}, "steps": [{"text": "readme"}]})
    )
    env = {"ANIMUS_MOCK_SCRIPT_DIR": str(scripts)}
    assert choose_script({"prompt": "x", "phase": "review"}, env).origin.endswith("10-review.yaml")
    assert choose_script({"prompt": "write a README"}, env).origin.endswith("20-readme.json")
    assert choose_script({"prompt": "other"}, env).origin == "default"
    assert (
        choose_script({"prompt": "x", "mock_script": [{"text": "i"}]}, env).origin == "mock_script"
    )
    with pytest.raises(RpcError, match="must be a list of steps"):
        parse_script({"steps": "nope"})


def test_version_constant_matches_the_distribution() -> None:
    import tomllib

    import animus_provider_mock

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    assert animus_provider_mock.__version__ == declared
