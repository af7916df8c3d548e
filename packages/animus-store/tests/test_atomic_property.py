"""A reader process never observes a partial document while a writer rewrites the file."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from animus_store import write_json_atomic

READER = """
    import hashlib, json, pathlib, sys, time
    target, ready, stop = (pathlib.Path(a) for a in sys.argv[1:4])
    seen, bad, reads = set(), [], 0
    ready.touch()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and reads < 200000:
        done = stop.exists()
        raw = target.read_bytes()
        reads += 1
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            bad.append([len(raw), str(exc)])
        else:
            seen.add(hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest())
        if done:
            break
    print(json.dumps({"reads": reads, "bad": bad[:5], "n_bad": len(bad), "seen": sorted(seen)}))
"""

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
)
json_doc = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=30,
)
document = st.builds(
    lambda body, pad: {"body": body, "pad": "p" * pad},
    json_doc,
    st.integers(min_value=0, max_value=300_000),
)


def _digest(doc: object) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(docs=st.lists(document, min_size=2, max_size=6))
def test_reader_process_never_sees_a_partial_document(
    tmp_path: Path, spawn: Callable[..., Any], docs: list[object]
) -> None:
    case = tmp_path / f"case-{time.monotonic_ns()}"
    case.mkdir()
    target, ready, stop = case / "doc.json", case / "ready", case / "stop"
    write_json_atomic(target, docs[0])
    reader = spawn(READER, str(target), str(ready), str(stop))
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        for i in range(120):
            write_json_atomic(target, docs[i % len(docs)], indent=(2 if i % 3 else None))
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=90)
    assert reader.returncode == 0, err
    result = json.loads(out)
    assert result["n_bad"] == 0, result["bad"]
    assert result["reads"] > 0
    assert set(result["seen"]) <= {_digest(d) for d in docs}
