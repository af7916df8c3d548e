"""The package namespace is lazy: every public name resolves, importing the client stays
cheap (no lifecycle module, no distribution metadata)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import animus_daemon_runtime


def test_every_public_name_resolves() -> None:
    for name in animus_daemon_runtime.__all__:
        assert getattr(animus_daemon_runtime, name) is not None, name
    assert animus_daemon_runtime.__version__.count(".") >= 1
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = animus_daemon_runtime.nothing_here


def test_importing_the_client_does_not_load_the_daemon() -> None:
    code = (
        "import sys, animus_daemon_runtime.client\n"
        "heavy = [m for m in ('animus_daemon_runtime.lifecycle', 'animus_daemon_runtime.daemon',"
        " 'importlib.metadata') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
