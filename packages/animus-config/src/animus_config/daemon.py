"""The daemon's own settings file, ``<scope>/daemon/pm-config.json``.

Defaults follow the reference. Unknown keys round-trip untouched (a newer or older Animus
may have written them); keys the reference removed are accepted, ignored, and reported as
warnings. A file that fails to parse is reported with file:line:column and never rewritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from animus_config._atomic import dump_json, write_bytes_atomic
from animus_config._diagnostics import ConfigDiagnostic, ConfigError
from animus_config._pydantic_errors import diagnostics_from_validation_error
from animus_config._yamlsource import parse_yaml
from animus_config.interpolate import PositionMap

__all__ = [
    "DEFAULT_WORKFLOW_CONCURRENCY_MAX",
    "REMOVED_DAEMON_CONFIG_KEYS",
    "DaemonConfig",
    "daemon_config_warnings",
    "effective_pool_size",
    "load_daemon_config",
    "save_daemon_config",
]

DEFAULT_WORKFLOW_CONCURRENCY_MAX = 10
REMOVED_DAEMON_CONFIG_KEYS = frozenset(
    {
        "auto_run_ready",
        "auto_merge",
        "auto_pr",
        "auto_commit_before_merge",
        "auto_prune_worktrees",
        "idle_timeout_secs",
    }
)


class DaemonConfig(BaseModel):
    """``pm-config.json``; re-read by the daemon on every tick."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    pool_size: Annotated[int, Field(gt=0)] | None = Field(
        default=None, validation_alias=AliasChoices("pool_size", "max_agents")
    )
    interval_secs: Annotated[float, Field(ge=1)] = 5
    max_tasks_per_tick: Annotated[int, Field(ge=1)] = 2
    stale_threshold_hours: Annotated[float, Field(gt=0)] = 24
    phase_timeout_secs: Annotated[int, Field(gt=0)] = 1800
    startup_cleanup: bool = True
    resume_interrupted: bool = True
    reconcile_stale: bool = True
    shutdown_timeout_secs: Annotated[float, Field(gt=0)] = 60
    # How runners start: forked from a warm forkserver (imports paid once per daemon) or a
    # fresh process each (what ANIMUS_WORKFLOW_RUNNER_BIN always gets).
    runner_launch: Literal["fork", "spawn"] = "fork"
    notification_config: dict[str, Any] | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The document as written: canonical names, unknown keys kept, unset pool omitted."""
        data = self.model_dump(mode="json")
        if data.get("pool_size") is None:
            data.pop("pool_size", None)
        if data.get("notification_config") is None:
            data.pop("notification_config", None)
        return data


def daemon_config_warnings(cfg: DaemonConfig, file: str | None = None) -> list[ConfigDiagnostic]:
    """One warning per removed key present in ``cfg`` (they are kept but have no effect)."""
    return [
        ConfigDiagnostic("warning", f"'{key}' was removed and is ignored", file, None, None, key)
        for key in sorted(set(cfg.model_extra or {}) & REMOVED_DAEMON_CONFIG_KEYS)
    ]


def load_daemon_config(path: str | os.PathLike[str]) -> DaemonConfig:
    """Read ``pm-config.json``; a missing file gives the defaults."""
    target = Path(path)
    label = str(target)
    try:
        text = target.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return DaemonConfig()
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [ConfigDiagnostic("error", f"not UTF-8 text (byte {exc.start})", label)]
        ) from None
    try:
        raw = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [ConfigDiagnostic("error", f"invalid JSON: {exc.msg}", label, exc.lineno, exc.colno)]
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            [ConfigDiagnostic("error", "pm-config.json must hold a JSON object", label, 1, 1)]
        )
    try:
        return DaemonConfig.model_validate(raw)
    except ValidationError as exc:
        # JSON is YAML: re-read it through the marking parser to point at the line.
        _, smap, _ = parse_yaml(text, PositionMap(label, text))
        raise ConfigError(diagnostics_from_validation_error(exc, smap, root=DaemonConfig)) from None


def save_daemon_config(path: str | os.PathLike[str], cfg: DaemonConfig) -> None:
    """Write ``cfg`` atomically (unknown keys included)."""
    write_bytes_atomic(Path(path), dump_json(cfg.to_json_dict()))


def effective_pool_size(cfg: DaemonConfig, env: Mapping[str, str] | None = None) -> int:
    """``min(pool_size or quota, quota)``, quota = ``ANIMUS_WORKFLOW_CONCURRENCY_MAX`` (10)."""
    env = os.environ if env is None else env
    quota = DEFAULT_WORKFLOW_CONCURRENCY_MAX
    raw = env.get("ANIMUS_WORKFLOW_CONCURRENCY_MAX", "").strip()
    if raw.isdigit() and int(raw) > 0:
        quota = int(raw)
    return min(cfg.pool_size or quota, quota)
