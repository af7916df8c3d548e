"""pm-config.json: defaults, alias, unknown-key round trip, removed keys, errors, pool size."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from animus_config import (
    ConfigError,
    DaemonConfig,
    effective_pool_size,
    load_daemon_config,
    save_daemon_config,
)
from animus_config.daemon import daemon_config_warnings

if TYPE_CHECKING:
    from pathlib import Path


def test_defaults_when_missing(tmp_path: Path) -> None:
    cfg = load_daemon_config(tmp_path / "pm-config.json")
    assert cfg.pool_size is None
    assert cfg.interval_secs == 5
    assert cfg.max_tasks_per_tick == 2
    assert cfg.stale_threshold_hours == 24
    assert cfg.phase_timeout_secs == 1800
    assert (cfg.startup_cleanup, cfg.resume_interrupted, cfg.reconcile_stale) == (True, True, True)
    assert cfg.shutdown_timeout_secs == 60
    assert cfg.notification_config is None
    assert cfg.runner_launch == "fork"
    assert not (tmp_path / "pm-config.json").exists()


def test_alias_unknown_and_removed_keys_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "pm-config.json"
    path.write_text(json.dumps({"max_agents": 4, "future_knob": {"a": 1}, "auto_merge": True}))
    cfg = load_daemon_config(path)
    assert cfg.pool_size == 4
    warnings = daemon_config_warnings(cfg, str(path))
    assert [w.field_path for w in warnings] == ["auto_merge"]
    save_daemon_config(path, cfg)
    written = json.loads(path.read_text())
    assert written["pool_size"] == 4
    assert "max_agents" not in written
    assert written["future_knob"] == {"a": 1}
    assert written["auto_merge"] is True
    assert load_daemon_config(path) == cfg


def test_invalid_json_reports_line_and_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "pm-config.json"
    path.write_text('{\n  "pool_size": 3,\n  oops\n}\n')
    with pytest.raises(ConfigError) as info:
        load_daemon_config(path)
    (diag,) = info.value.errors
    assert (diag.file, diag.line, diag.column) == (str(path), 3, 3)
    assert path.read_text() == '{\n  "pool_size": 3,\n  oops\n}\n'


def test_wrong_type_and_minimum_report_field_and_line(tmp_path: Path) -> None:
    path = tmp_path / "pm-config.json"
    path.write_text('{\n  "interval_secs": 0,\n  "startup_cleanup": "sometimes"\n}\n')
    with pytest.raises(ConfigError) as info:
        load_daemon_config(path)
    found = {(d.field_path, d.line) for d in info.value.errors}
    assert found == {("interval_secs", 2), ("startup_cleanup", 3)}


def test_runner_launch_is_fork_or_spawn(tmp_path: Path) -> None:
    path = tmp_path / "pm-config.json"
    path.write_text('{"runner_launch": "spawn"}')
    assert load_daemon_config(path).runner_launch == "spawn"
    path.write_text('{\n  "pool_size": 2,\n  "runner_launch": "teleport"\n}\n')
    with pytest.raises(ConfigError) as info:
        load_daemon_config(path)
    (diag,) = info.value.errors
    assert (diag.field_path, diag.line) == ("runner_launch", 3)
    assert "'fork'" in diag.message
    assert "'spawn'" in diag.message


def test_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "pm-config.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        load_daemon_config(path)


def test_effective_pool_size() -> None:
    assert effective_pool_size(DaemonConfig(), {}) == 10
    assert effective_pool_size(DaemonConfig(pool_size=3), {}) == 3
    assert effective_pool_size(DaemonConfig(pool_size=50), {}) == 10
    assert (
        effective_pool_size(DaemonConfig(pool_size=50), {"ANIMUS_WORKFLOW_CONCURRENCY_MAX": "20"})
        == 20
    )
    assert effective_pool_size(DaemonConfig(), {"ANIMUS_WORKFLOW_CONCURRENCY_MAX": "junk"}) == 10
