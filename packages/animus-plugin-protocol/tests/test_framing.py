"""The frame decoder and encoder: property tests over arbitrary messages and splits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from animus_plugin_protocol import MAX_FRAME_BYTES, FrameDecoder, FrameError, encode_frame

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
request_ids = st.integers(min_value=0, max_value=2**31) | st.text(min_size=1, max_size=8)
methods = st.sampled_from(["initialize", "agent/run", "$/ping", "subject/list", "x/y"])


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    shape = draw(st.sampled_from(["request", "notification", "success", "error"]))
    message: dict[str, Any] = {"jsonrpc": "2.0"}
    if shape in ("request", "notification"):
        message["method"] = draw(methods)
        if draw(st.booleans()):
            message["params"] = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=4))
    if shape != "notification":
        message["id"] = draw(request_ids)
    if shape == "success":
        message["result"] = draw(json_values)
    if shape == "error":
        message["error"] = {"code": draw(st.integers(-32800, -32000)), "message": draw(st.text())}
    return message


def decode_in_pieces(stream: bytes, cuts: list[int]) -> list[object]:
    decoder = FrameDecoder()
    out: list[object] = []
    last = 0
    for cut in sorted(set(cuts)):
        out.extend(decoder.feed(stream[last:cut]))
        last = cut
    out.extend(decoder.feed(stream[last:]))
    out.extend(decoder.close())
    return out


def good(items: list[object]) -> list[object]:
    return [item for item in items if not isinstance(item, FrameError)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages(), max_size=8))
def test_round_trip_of_messages(batch: list[dict[str, Any]]) -> None:
    stream = b"".join(encode_frame(m) for m in batch)
    assert stream.count(b"\n") == len(batch)  # exactly one line per frame
    assert decode_in_pieces(stream, []) == batch


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages(), min_size=1, max_size=6), st.data())
def test_arbitrary_splits_give_the_same_frames(batch: list[dict[str, Any]], data: Any) -> None:
    stream = b"".join(encode_frame(m) for m in batch)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    assert decode_in_pieces(stream, cuts) == batch


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


garbage_lines = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
    min_size=1,
    max_size=30,
).filter(_not_json)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.lists(garbage_lines, max_size=3), messages()), min_size=1, max_size=6),
    st.data(),
)
def test_garbage_between_frames_never_loses_a_good_frame(
    pairs: list[tuple[list[str], dict[str, Any]]], data: Any
) -> None:
    stream = b""
    for junk, message in pairs:
        stream += b"".join(line.encode() + b"\n" for line in junk)
        stream += encode_frame(message)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=6))
    decoded = decode_in_pieces(stream, cuts)
    assert good(decoded) == [message for _, message in pairs]
    junk_count = sum(1 for junk, _ in pairs for line in junk if line.encode().strip())
    assert sum(isinstance(i, FrameError) for i in decoded) <= junk_count


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages(), min_size=1, max_size=5), st.data())
def test_pretty_printed_frames_spanning_lines(batch: list[dict[str, Any]], data: Any) -> None:
    pieces = []
    for message in batch:
        pretty = data.draw(st.booleans())
        text = json.dumps(message, indent=2) if pretty else json.dumps(message)
        pieces.append(text.encode() + b"\n")
        if data.draw(st.booleans()):
            pieces.append(b"\n   \n")  # blank lines are skipped
    stream = b"".join(pieces)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=8))
    assert decode_in_pieces(stream, cuts) == batch


def test_blank_lines_crlf_and_multiline_from_the_reference() -> None:
    stream = (
        b"\n\r\n"
        b'{"jsonrpc":"2.0","id":1,"method":"$/ping"}\r\n'
        b'{\n  "jsonrpc": "2.0",\n  "id": 2,\n  "method": "initialize",\n'
        b'  "params": {"protocol_version": "1.0.0", "host_info": {"name": "h", "version": "1"}}\n'
        b"}\n"
    )
    frames = decode_in_pieces(stream, [])
    assert [f["id"] for f in frames if isinstance(f, dict)] == [1, 2]
    assert not any(isinstance(f, FrameError) for f in frames)


def test_trailing_garbage_before_the_newline_discards_the_frame() -> None:
    decoder = FrameDecoder()
    out = decoder.feed(b'{"a": 1} trailing\n{\n "b": 2\n} junk\n{"c": 3}\n')
    assert good(out) == [{"c": 3}]
    assert [type(i) for i in out] == [FrameError, FrameError, dict]


def test_frame_is_dispatched_only_after_its_newline() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b'{"a": 1}') == []
    assert decoder.feed(b"\n") == [{"a": 1}]
    assert decoder.feed(b'{"partial": ') == []
    errors = decoder.close()
    assert len(errors) == 1
    assert "end of stream" in errors[0].reason
    assert errors[0].excerpt.startswith('{"partial"')


def test_lone_opener_does_not_swallow_the_frames_behind_it() -> None:
    out = decode_in_pieces(b'[\n{"id": 1}\n{\n{\n  "id": 2\n}\n', [])
    assert good(out) == [{"id": 1}, {"id": 2}]


def test_invalid_utf8_is_a_frame_error() -> None:
    out = decode_in_pieces(b'\xff\xfe{"bad": 1}\n{"good": 1}\n', [])
    assert good(out) == [{"good": 1}]
    assert isinstance(out[0], FrameError)


def test_oversized_frame_over_16_mib_then_a_good_frame() -> None:
    decoder = FrameDecoder()
    assert MAX_FRAME_BYTES == 16 * 1024 * 1024
    chunk = b"a" * (1024 * 1024)
    out: list[object] = list(decoder.feed(b'{"jsonrpc":"2.0","method":"x","params":"'))
    for _ in range(20):  # 20 MiB streamed in 1 MiB chunks
        out.extend(decoder.feed(chunk))
        assert decoder.buffered_bytes <= MAX_FRAME_BYTES  # memory stays bounded
    out.extend(decoder.feed(b'"}\n{"jsonrpc":"2.0","id":7,"result":{}}\n'))
    assert good(out) == [{"jsonrpc": "2.0", "id": 7, "result": {}}]
    errors = [i for i in out if isinstance(i, FrameError)]
    assert len(errors) == 1
    assert "exceeds" in errors[0].reason
    assert len(errors[0].excerpt) < 200


def test_oversized_line_delivered_in_one_chunk() -> None:
    decoder = FrameDecoder(max_frame_bytes=64)
    out = decoder.feed(b'{"x":"' + b"y" * 100 + b'"}\n{"ok":1}\n')
    assert good(out) == [{"ok": 1}]
    assert isinstance(out[0], FrameError)


def test_oversized_pretty_frame_resyncs_on_the_next_frame() -> None:
    decoder = FrameDecoder(max_frame_bytes=200)
    body = b"".join(b'  "k%d": "%s",\n' % (i, b"v" * 20) for i in range(20))
    stream = b"{\n" + body + b'  "end": 1\n}\n{"ok": 2}\n'
    out: list[object] = []
    for start in range(0, len(stream), 7):
        out.extend(decoder.feed(stream[start : start + 7]))
    assert good(out) == [{"ok": 2}]
    assert sum(isinstance(i, FrameError) for i in out) == 1


def test_decoder_rejects_a_non_positive_cap() -> None:
    with pytest.raises(ValueError, match="positive"):
        FrameDecoder(max_frame_bytes=0)


def test_encode_frame_is_compact_single_line_and_utf8() -> None:
    frame = encode_frame({"text": "line1\nline2 \u00e9\u2028", "n": None})
    assert frame.endswith(b"\n")
    assert frame.count(b"\n") == 1
    assert json.loads(frame) == {"text": "line1\nline2 \u00e9\u2028", "n": None}
    assert b" " not in frame.replace(b"line2 ", b"")


def test_encode_frame_escapes_lone_surrogates() -> None:
    frame = encode_frame({"text": "\ud800"})
    assert json.loads(frame) == {"text": "\ud800"}


def test_encode_frame_rejects_what_is_not_json() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode_frame({"x": object()})
