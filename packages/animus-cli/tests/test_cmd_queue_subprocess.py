from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _animus(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANIMUS_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [sys.executable, "-m", "animus_cli", "--project-root", str(tmp_path / "p"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_real_processes_init_queue_status_and_errors(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    assert _animus(tmp_path, "init").returncode == 0
    proc = _animus(
        tmp_path,
        "--json",
        "queue",
        "enqueue",
        "--subject",
        "custom:x",
        "--workflow-ref",
        "standard",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["data"]["entry_id"] == "QE-000001"
    proc = _animus(
        tmp_path,
        "--json",
        "queue",
        "enqueue",
        "--subject",
        "custom:x",
        "--workflow-ref",
        "standard",
    )
    assert proc.returncode == 4
    assert proc.stdout == ""
    assert json.loads(proc.stderr)["error"]["code"] == "conflict"
    proc = _animus(tmp_path, "status")
    assert proc.returncode == 0
    assert "1 queued" in proc.stdout
    proc = _animus(tmp_path, "--json", "workflow", "get", "nope")
    assert proc.returncode == 3
    assert json.loads(proc.stderr)["error"]["code"] == "not_found"
    proc = _animus(tmp_path, "queue", "list", "--limit", "x")
    assert proc.returncode == 2
    assert "hint:" in proc.stderr
