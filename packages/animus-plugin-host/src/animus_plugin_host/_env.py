"""The environment a plugin process sees: an allowlist, its declared variables, extras.

The host never hands a plugin its whole environment (tokens of unrelated services would
leak into every plugin). What passes: the base allowlist, the names the manifest declares
in ``env_required``, and extras the caller passes explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

__all__ = ["BASE_ENV_ALLOWLIST", "build_plugin_env", "missing_required_env"]

BASE_ENV_ALLOWLIST: tuple[str, ...] = (
    "PATH",
    "HOME",
    "USER",
    "SHELL",
    "TERM",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "TZ",
    "RUST_LOG",
    "RUST_BACKTRACE",
)


def build_plugin_env(
    declared: Iterable[str] = (),
    extras: Mapping[str, str] | None = None,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Allowlisted and declared variables copied from ``source`` (default ``os.environ``),
    then ``extras`` on top."""
    source = os.environ if source is None else source
    env: dict[str, str] = {}
    for name in (*BASE_ENV_ALLOWLIST, *declared):
        value = source.get(name)
        if value is not None:
            env[name] = value
    if extras:
        env.update(extras)
    return env


def missing_required_env(
    required: Iterable[str], source: Mapping[str, str] | None = None
) -> list[str]:
    """Names of required variables that are unset or empty in ``source``."""
    source = os.environ if source is None else source
    return [name for name in required if not source.get(name)]
