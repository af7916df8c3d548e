"""The manifest probe: run ``<plugin> --manifest`` safely and cache the answer.

Safety limits: stdin closed, a scrubbed environment, a 5 s timeout (the whole process group
is killed), and at most 1 MiB of stdout read. Answers are cached by the sha256 of the
executable (plus a salt for entry-point plugins whose code lives elsewhere), so an unchanged
plugin is never spawned again just to learn its name. ``ANIMUS_DISABLE_MANIFEST_CACHE=1``
turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import ValidationError

from animus_plugin_host._env import build_plugin_env
from animus_plugin_protocol import PluginManifest

__all__ = [
    "PROBE_OUTPUT_CAP",
    "PROBE_TIMEOUT",
    "ManifestProbeError",
    "file_sha256",
    "probe_manifest",
]

PROBE_TIMEOUT = 5.0
PROBE_OUTPUT_CAP = 1 << 20
_STDERR_EXCERPT = 400


class ManifestProbeError(Exception):
    """The probe failed; the message says why in one sentence."""


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (symlinks followed)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_enabled(env: Mapping[str, str]) -> bool:
    return env.get("ANIMUS_DISABLE_MANIFEST_CACHE", "").strip().lower() not in (
        "1",
        "true",
        "yes",
    )


def _read_cache(cache_dir: Path, key: str) -> PluginManifest | None:
    path = cache_dir / f"{key}.json"
    try:
        return PluginManifest.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError):
        return None


def _write_cache(cache_dir: Path, key: str, manifest: PluginManifest) -> None:
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=f".{key}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(manifest.to_json())
        os.replace(tmp, cache_dir / f"{key}.json")
    except OSError:
        pass  # the cache is an optimisation only


def probe_manifest(
    command: Sequence[str],
    *,
    cache_dir: Path | None = None,
    cache_key: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = PROBE_TIMEOUT,
    output_cap: int = PROBE_OUTPUT_CAP,
) -> PluginManifest:
    """The plugin's manifest, from the cache when ``cache_key`` was seen before."""
    source_env = os.environ if env is None else env
    use_cache = cache_dir is not None and cache_key is not None and _cache_enabled(source_env)
    if not use_cache:
        return _run_probe(command, build_plugin_env(source=source_env), timeout, output_cap)
    assert cache_dir is not None
    assert cache_key is not None
    cached = _read_cache(cache_dir, cache_key)
    if cached is not None:
        return cached
    # Single flight across processes: when eight runners start at once on a cold cache, one
    # probes each plugin and the others read its answer (eight probes of every installed
    # plugin was most of a cold daemon's first wave). A lock that cannot be had in time
    # (an unwritable cache directory, a stuck peer) only costs a duplicate probe.
    with _probe_lock(cache_dir, cache_key, timeout + 5.0):
        cached = _read_cache(cache_dir, cache_key)
        if cached is not None:
            return cached
        manifest = _run_probe(command, build_plugin_env(source=source_env), timeout, output_cap)
        _write_cache(cache_dir, cache_key, manifest)
    return manifest


@contextlib.contextmanager
def _probe_lock(cache_dir: Path, key: str, timeout: float) -> Iterator[None]:
    lock: FileLock | None = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(
            str(cache_dir / f".{key}.lock"),
            timeout=timeout,
            thread_local=False,
            is_singleton=False,
            poll_interval=0.01,
        )
        lock.acquire()
    except (OSError, Timeout):
        lock = None
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def _run_probe(
    command: Sequence[str], env: dict[str, str], timeout: float, output_cap: int
) -> PluginManifest:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                [*command, "--manifest"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise ManifestProbeError(f"could not run it: {exc}") from exc
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise ManifestProbeError(f"--manifest did not finish within {timeout:g} s") from None
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # no stragglers from the probe
        size = out.tell()
        out.seek(0)
        data = out.read(output_cap + 1)
        err.seek(0)
        stderr = err.read(_STDERR_EXCERPT).decode("utf-8", "replace").strip()
    if code != 0:
        suffix = f": {stderr}" if stderr else ""
        raise ManifestProbeError(f"--manifest exited with status {code}{suffix}")
    if size > output_cap:
        raise ManifestProbeError(f"--manifest printed more than {output_cap} bytes")
    text = data.decode("utf-8", "replace").strip()
    if not text:
        raise ManifestProbeError("--manifest printed nothing")
    line = text.splitlines()[0] if text.startswith("{") and "\n" in text else text
    try:
        raw = json.loads(line)
    except ValueError:
        try:
            raw = json.loads(text)  # a pretty-printed manifest is tolerated
        except ValueError as exc:
            raise ManifestProbeError(f"--manifest did not print JSON: {exc}") from exc
    try:
        return PluginManifest.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            for e in exc.errors()[:5]
        )
        raise ManifestProbeError(f"--manifest printed an invalid manifest: {problems}") from exc
