from __future__ import annotations

import subprocess
import sys

import pytest

import animus_store


def test_every_public_name_resolves() -> None:
    for name in animus_store.__all__:
        assert getattr(animus_store, name) is not None, name
    assert animus_store.__version__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = animus_store.nope  # type: ignore[attr-defined]


def test_importing_one_module_does_not_load_the_others() -> None:
    code = (
        "import sys, animus_store.atomic; "
        "print(sorted(m for m in sys.modules if m.startswith('animus_store.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "animus_store.eventlog" not in out
    assert "animus_store.db" not in out
    assert "animus_store.atomic" in out
