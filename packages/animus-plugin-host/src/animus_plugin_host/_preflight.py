"""Preflight: which roles a working Animus still lacks, and the command that fixes each.

Tasks, requirements, the queue and the workflow runner are built into this kernel, so the
only role that must come from a plugin is an agent provider. Required environment variables
of discovered plugins are reported too (a provider without its API key fails at run time).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from animus_plugin_host._discovery import DiscoveryResult
from animus_plugin_host._env import missing_required_env

__all__ = ["PreflightIssue", "PreflightReport", "preflight"]


@dataclass(frozen=True)
class PreflightIssue:
    role: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.role}: {self.problem} — fix: {self.fix}"


@dataclass
class PreflightReport:
    issues: list[PreflightIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def preflight(
    discovery: DiscoveryResult, *, env: Mapping[str, str] | None = None
) -> PreflightReport:
    env = os.environ if env is None else env
    report = PreflightReport(warnings=[str(w) for w in discovery.warnings])
    if not discovery.by_kind("provider"):
        report.issues.append(
            PreflightIssue(
                "provider",
                "no provider plugin was discovered, so agent phases cannot run",
                "uv pip install animus-provider-mock   (or `animus plugin install --path "
                "<animus-provider-…>` for a real agent CLI provider)",
            )
        )
    for plugin in discovery.plugins.values():
        required = [r.name for r in plugin.manifest.env_required if r.required]
        for name in missing_required_env(required, env):
            report.issues.append(
                PreflightIssue(
                    f"env:{plugin.name}",
                    f"{plugin.name} requires the environment variable {name}, which is unset",
                    f"export {name}=<value>",
                )
            )
    return report
