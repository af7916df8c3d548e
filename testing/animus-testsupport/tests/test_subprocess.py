"""`python -m animus_testsupport.model_server` as a separate process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from animus_testsupport import RecordedRequest
from animus_testsupport.httpcall import anthropic_body, call


def wait_for_port(port_file: Path, proc: subprocess.Popen[str]) -> int:
    for _ in range(200):  # bounded: at most ~10 s
        if port_file.exists():
            return int(port_file.read_text())
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("server never wrote its port file")


def test_serves_the_script_records_requests_and_stops_on_sigterm(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"turns": ["from a subprocess"]}))
    port_file, record = tmp_path / "port", tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "animus_testsupport.model_server",
            "--script",
            str(script),
            "--port-file",
            str(port_file),
            "--record",
            str(record),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = wait_for_port(port_file, proc)
        reply = call(f"http://127.0.0.1:{port}", "/v1/messages", anthropic_body("hello?"))
        exhausted = call(f"http://127.0.0.1:{port}", "/v1/messages", anthropic_body())
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    assert reply.json()["content"][0]["text"] == "from a subprocess"
    assert exhausted.status == 400
    records = [RecordedRequest.from_json(json.loads(line)) for line in record.open()]
    assert [r.outcome for r in records] == ["turn", "exhausted"]
    assert "hello?" in records[0].body_text()


def test_bad_script_exits_2_with_the_reason(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"txet": "typo"}]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "animus_testsupport.model_server",
            "--script",
            str(script),
            "--port-file",
            str(tmp_path / "port"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "turns[0]: unknown field(s) ['txet']" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "port").exists()
