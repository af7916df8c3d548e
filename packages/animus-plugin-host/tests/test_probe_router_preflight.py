from __future__ import annotations

import os
from pathlib import Path

import pytest

from animus_plugin_host import (
    ManifestProbeError,
    PluginCallError,
    RouterSetupError,
    SubjectRouter,
    build_plugin_env,
    discover,
    preflight,
    probe_manifest,
    resolve_notification_capacity,
)


def _script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("exit 9", "exited with status 9"),
        ("true", "printed nothing"),
        ("echo '{not json'", "did not print JSON"),
        ('echo \'{"name": "x"}\'', "invalid manifest: version: Field required"),
        ("head -c 1100000 /dev/zero | tr '\\0' 'a'", "more than 1048576 bytes"),
    ],
)
def test_probe_failures_are_one_clear_sentence(tmp_path: Path, body: str, message: str) -> None:
    exe = _script(tmp_path, "animus-bad", body)
    with pytest.raises(ManifestProbeError, match=message):
        probe_manifest([str(exe)], env={"PATH": os.environ["PATH"]})


def test_probe_timeout_kills_the_probe(tmp_path: Path) -> None:
    exe = _script(tmp_path, "animus-slow", "sleep 30")
    with pytest.raises(ManifestProbeError, match=r"did not finish within 0\.3 s"):
        probe_manifest([str(exe)], env={"PATH": os.environ["PATH"]}, timeout=0.3)


def test_probe_env_is_scrubbed(tmp_path: Path) -> None:
    out = tmp_path / "seen"
    exe = _script(
        tmp_path,
        "animus-envdump",
        f'env > {out}\necho \'{{"name":"animus-envdump","version":"1","plugin_kind":'
        '"custom","description":"d","protocol_version":"1.1.0"}\'',
    )
    manifest = probe_manifest([str(exe)], env={"PATH": os.environ["PATH"], "ANIMUS_CANARY": "leak"})
    assert manifest.name == "animus-envdump"
    assert "ANIMUS_CANARY" not in out.read_text()


def test_env_allowlist_and_capacity_resolution() -> None:
    source = {"PATH": "/bin", "HOME": "/h", "SECRET": "s", "DECLARED": "d", "LANG": "C"}
    assert build_plugin_env(["DECLARED"], {"EXTRA": "e"}, source=source) == {
        "PATH": "/bin",
        "HOME": "/h",
        "LANG": "C",
        "DECLARED": "d",
        "EXTRA": "e",
    }
    assert resolve_notification_capacity(32, {"ANIMUS_PLUGIN_BROADCAST_CAPACITY": "64"}) == 32
    assert resolve_notification_capacity(None, {"ANIMUS_PLUGIN_BROADCAST_CAPACITY": "64"}) == 64
    assert resolve_notification_capacity(None, {"ANIMUS_PLUGIN_BROADCAST_CAPACITY": "x"}) == 256
    assert resolve_notification_capacity(None, {}) == 256


def test_router_exact_beats_longest_glob_and_unclaimed_is_32601() -> None:
    router = SubjectRouter(
        {
            "animus-subject-linear": ["linear.*", "linear.issue"],
            "animus-subject-deep": ["linear.team.*"],
            "animus-subject-jira": ["jira.ticket"],
        }
    )
    assert router.resolve("linear.issue") == ("animus-subject-linear", "linear.issue")
    assert router.resolve("linear.team.epic") == ("animus-subject-deep", "linear.team.*")
    assert router.resolve("linear.project") == ("animus-subject-linear", "linear.*")
    route = router.route("jira.ticket/get")
    assert (route.plugin, route.kind, route.verb) == ("animus-subject-jira", "jira.ticket", "get")
    with pytest.raises(PluginCallError) as info:
        router.resolve("github.pr")
    assert info.value.rpc_code == -32601
    assert "no subject backend claims kind 'github.pr'" in str(info.value)
    with pytest.raises(PluginCallError, match="not a <kind>/<verb> method"):
        router.route("nokind")


def test_router_duplicate_claims_are_a_setup_error() -> None:
    with pytest.raises(RouterSetupError, match=r"'jira\.\*' is claimed by both a and b"):
        SubjectRouter({"a": ["jira.*"], "b": ["jira.*"]})
    with pytest.raises(RouterSetupError, match=r"'x' is claimed by both"):
        SubjectRouter({"a": ["x"], "b": ["x"]})


def test_preflight_reports_missing_provider_with_fix(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "ANIMUS_HOME": str(tmp_path / "h")}
    result = discover(None, env=env)
    result.plugins = {n: p for n, p in result.plugins.items() if not p.serves_kind("provider")}
    report = preflight(result, env=env)
    assert not report.ok
    (issue,) = report.issues
    assert issue.role == "provider"
    assert "animus-provider-mock" in issue.fix
