"""A plugin written only against animus-plugin-protocol: discovered, installed, locked,
pinged, called and hosted; the lockfile notices a modified executable."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from animus_plugin_host import (
    InstallError,
    LockfileError,
    PluginHost,
    PluginNotFoundError,
    discover,
    install_from_path,
    read_lock,
    uninstall,
    verify_lock,
)


def test_discovery_tiers_precedence_shadowing_and_warnings(
    tmp_path: Path, plugin_env: dict[str, str], make_plugin: Callable[..., Path]
) -> None:
    project = tmp_path / "proj"
    make_plugin(project / ".animus" / "plugins" / "animus-echo", version="9.0.0")
    make_plugin(Path(plugin_env["ANIMUS_HOME"]) / "plugins" / "animus-echo", version="1.0.0")
    extra = tmp_path / "extra"
    make_plugin(extra / "animus-echo-too")  # same manifest name: shadowed by the project one
    broken = extra / "animus-broken"
    broken.write_text("#!/bin/sh\necho not json\n")
    broken.chmod(0o755)
    (extra / "animus-not-executable").write_text("x")
    env = dict(plugin_env, ANIMUS_PLUGIN_PATH=str(extra))

    result = discover(project, env=env)

    echo = result.get("animus-echo")
    assert echo.source == "project_dir"
    assert echo.version == "9.0.0"
    assert echo.env_required == ("ECHO_TOKEN",)
    shadowed = {(s.shadowed_source, Path(s.shadowed).name) for s in result.shadowed}
    assert ("global_dir", "animus-echo") in shadowed
    assert ("plugin_path", "animus-echo-too") in shadowed
    assert [w.candidate for w in result.warnings] == [str(broken)]
    assert "did not print JSON" in result.warnings[0].message
    with pytest.raises(PluginNotFoundError, match="no plugin named 'animus-nope'"):
        result.get("animus-nope")


def test_registry_entries_and_name_override(
    tmp_path: Path, plugin_env: dict[str, str], make_plugin: Callable[..., Path]
) -> None:
    project = tmp_path / "proj"
    exe = make_plugin(tmp_path / "bin" / "echo-plugin")
    registry = project / ".animus" / "plugins.yaml"
    registry.parent.mkdir(parents=True)
    registry.write_text(
        "plugins:\n"
        f"  renamed: {{binary: {exe}, name_override: animus-echo-renamed}}\n"
        "  missing: {binary: ./nope}\n"
        "providers: [not, a, map]\n"
    )
    result = discover(project, env=plugin_env)
    plugin = result.get("animus-echo-renamed")
    assert plugin.source == "project_registry"
    messages = " | ".join(str(w) for w in result.warnings)
    assert "registry entry 'missing' names a binary that is missing" in messages
    assert "'providers:' must be a mapping" in messages


def test_manifest_cache_avoids_a_second_probe(
    tmp_path: Path, plugin_env: dict[str, str], make_plugin: Callable[..., Path]
) -> None:
    counter = Path(plugin_env["HOME"]) / "echo-probes.txt"  # written by the fixture
    exe = make_plugin(Path(plugin_env["ANIMUS_HOME"]) / "plugins" / "animus-echo")
    env = plugin_env
    first = discover(None, env=env)
    second = discover(None, env=env)
    assert first.get("animus-echo").sha256 == second.get("animus-echo").sha256
    assert counter.read_text().count("probe") == 1
    cache = Path(plugin_env["ANIMUS_HOME"]) / "cache" / "manifests"
    assert len(list(cache.glob("*.json"))) >= 1
    # The kill switch probes again; so does a modified executable (new sha256).
    discover(None, env=dict(env, ANIMUS_DISABLE_MANIFEST_CACHE="1"))
    assert counter.read_text().count("probe") == 2
    exe.write_text(exe.read_text() + "\n# changed\n")
    assert discover(None, env=env).get("animus-echo").version == "1.2.3"
    assert counter.read_text().count("probe") == 3


def test_concurrent_discoveries_probe_a_plugin_once(
    tmp_path: Path, plugin_env: dict[str, str], make_plugin: Callable[..., Path]
) -> None:
    """Four processes discovering on a cold cache at once: one probe, four answers."""
    home = Path(plugin_env["HOME"])
    (home / "echo-probe-delay").write_text("0.5")
    make_plugin(Path(plugin_env["ANIMUS_HOME"]) / "plugins" / "animus-echo")
    code = (
        "from animus_plugin_host import discover\n"
        "print(discover(None).get('animus-echo').manifest.version)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=plugin_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [out.strip() for out, _err in outputs] == ["1.2.3"] * 4, outputs
    assert (home / "echo-probes.txt").read_text().count("probe") == 1


def test_install_lock_host_and_verify(
    tmp_path: Path, plugin_env: dict[str, str], make_plugin: Callable[..., Path]
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    source = make_plugin(tmp_path / "dist" / "echo.py")
    installed = install_from_path(source, scope="project", project_root=project, env=plugin_env)
    assert installed.path == project / ".animus" / "plugins" / "animus-echo"
    lock = tomllib.loads((project / ".animus" / "plugins.lock").read_text())
    assert lock["schema_version"] == "1.0"
    assert "generated_at" in lock
    (entry,) = lock["plugins"]
    assert entry["name"] == "animus-echo"
    assert entry["version"] == "1.2.3"
    assert entry["artifact_sha256"] == installed.sha256
    assert entry["installed_kind"] == "custom"
    assert entry["installed_at"].endswith("Z")
    assert verify_lock(project, env=plugin_env).ok == ["animus-echo"]

    async def host_it() -> None:
        env = dict(plugin_env, ECHO_TOKEN="declared", ANIMUS_CANARY="must-not-leak")
        host = PluginHost(project, env=env)
        proc = await host.start("animus-echo")
        try:
            await proc.ping()
            sub = proc.subscribe()
            result = await proc.call("echo/say", {"text": "hi"})
            assert result == {"text": "hi", "cwd": str(project.resolve())}
            note = await sub.get()
            assert note is not None
            assert note.method == "echo/said"
            seen = await proc.call("echo/env", {})
            assert "ANIMUS_CANARY" not in seen
            assert seen["ECHO_TOKEN"] == "declared"
            assert set(seen) - {"ECHO_TOKEN", "PWD", "LC_CTYPE"} <= {
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
            }
        finally:
            assert await proc.shutdown() == "exited"

    asyncio.run(host_it())

    exe = installed.path
    exe.write_text(exe.read_text() + "\n# tampered\n")
    report = verify_lock(project, env=plugin_env)
    assert not report.passed
    (issue,) = report.modified
    assert issue.name == "animus-echo"
    assert "was modified" in str(issue)
    exe.unlink()
    assert verify_lock(project, env=plugin_env).missing[0].name == "animus-echo"

    uninstall("animus-echo", scope="project", project_root=project, env=plugin_env)
    assert read_lock(project / ".animus" / "plugins.lock") == []
    with pytest.raises(PluginNotFoundError):
        uninstall("animus-echo", scope="project", project_root=project, env=plugin_env)


def test_install_global_refuses_non_plugins_and_broken_lockfiles(
    tmp_path: Path, plugin_env: dict[str, str], make_plugin: Callable[..., Path]
) -> None:
    not_plugin = tmp_path / "tool"
    not_plugin.write_text("#!/bin/sh\nexit 4\n")
    not_plugin.chmod(0o755)
    with pytest.raises(InstallError, match="is not an Animus plugin: --manifest exited with"):
        install_from_path(not_plugin, scope="global", env=plugin_env)
    with pytest.raises(InstallError, match="is not an executable file"):
        install_from_path(tmp_path / "missing", scope="global", env=plugin_env)
    with pytest.raises(InstallError, match="needs a project root"):
        install_from_path(not_plugin, scope="project", env=plugin_env)
    lock = Path(plugin_env["ANIMUS_HOME"]) / "plugins.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("this is = = not toml")
    source = make_plugin(tmp_path / "echo.py")
    with pytest.raises(LockfileError, match="cannot read"):
        install_from_path(source, scope="global", env=plugin_env)
    assert lock.read_text() == "this is = = not toml"  # never overwritten
    lock.unlink()
    installed = install_from_path(source, scope="global", env=plugin_env)
    assert installed.path.parent == Path(plugin_env["ANIMUS_HOME"]) / "plugins"
    assert discover(None, env=plugin_env).get("animus-echo").source == "global_dir"


def test_install_requirement_into_a_dedicated_venv(
    tmp_path: Path, plugin_env: dict[str, str]
) -> None:
    wheel = _build_wheel(tmp_path)
    from animus_plugin_host import install_requirement

    env = dict(plugin_env, UV_OFFLINE="1")
    installed = install_requirement(str(wheel), scope="global", env=env, pip_args=("--no-index",))
    assert installed.name == "animus-wheelie"
    assert installed.path.is_symlink()
    assert ".venvs" in str(installed.path.resolve())
    assert verify_lock(None, env=env).ok == ["animus-wheelie"]
    uninstall("animus-wheelie", scope="global", env=env)
    assert not (Path(plugin_env["ANIMUS_HOME"]) / "plugins" / ".venvs" / wheel.name).exists()


def _build_wheel(tmp_path: Path) -> Path:
    """A minimal pure-Python wheel whose console script is a stdlib-only plugin."""
    import base64
    import hashlib
    import zipfile

    name, version = "animus_wheelie", "0.3.0"
    files = {
        f"{name}/__init__.py": (
            "import json, sys\n"
            "def main():\n"
            "    if '--manifest' in sys.argv:\n"
            "        print(json.dumps({'name': 'animus-wheelie', 'version': '0.3.0',"
            " 'plugin_kind': 'custom', 'description': 'd', 'protocol_version': '1.1.0'}))\n"
            "        return 0\n"
            "    return 2\n"
        ),
        f"{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: animus-wheelie\nVersion: {version}\n"
        ),
        f"{name}-{version}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{name}-{version}.dist-info/entry_points.txt": (
            f"[console_scripts]\nanimus-wheelie = {name}:main\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    wheel = tmp_path / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
        archive.writestr(f"{name}-{version}.dist-info/RECORD", "\n".join(record) + "\n")
    assert sys.executable
    assert os.path.exists(wheel)
    return wheel


def test_system_path_only_on_request(
    tmp_path: Path, plugin_env: dict[str, str], make_plugin: Callable[..., Path]
) -> None:
    bin_dir = tmp_path / "sysbin"
    make_plugin(bin_dir / "animus-echo")
    env = dict(plugin_env, PATH=f"{bin_dir}{os.pathsep}{plugin_env['PATH']}")
    assert "animus-echo" not in discover(None, env=env).plugins
    found = discover(None, env=env, include_system_path=True)
    assert found.get("animus-echo").source == "system_path"


def test_plugin_host_shares_one_supervisor_per_plugin(
    tmp_path: Path, plugin_env: dict[str, str], make_plugin: Callable[..., Path]
) -> None:
    make_plugin(Path(plugin_env["ANIMUS_HOME"]) / "plugins" / "animus-echo")

    async def main() -> None:
        host = PluginHost(None, env=plugin_env, log_dir=tmp_path / "logs")
        sup = host.supervisor("animus-echo")
        assert host.supervisor("animus-echo") is sup
        assert (await sup.call("echo/say", {"text": "a"}))["text"] == "a"
        first = sup.current
        assert first is not None
        assert (await sup.call("echo/say", {"text": "b"}))["text"] == "b"
        assert sup.current is first  # the same long-lived process served both calls
        await host.aclose()
        assert not first.alive
        assert (tmp_path / "logs" / "animus-echo.log").exists()

    asyncio.run(main())
