"""`ScriptedModelServer`: a loopback HTTP server that answers model requests from a script."""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from animus_testsupport import _anthropic, _chat, _gemini, _responses
from animus_testsupport._recording import RecordedRequest, redact_headers
from animus_testsupport._script import ErrorReply, Script, Turn
from animus_testsupport._wire import BadRequest, estimate_tokens

__all__ = ["ScriptedModelServer"]

# Largest request body accepted; CLIs send long system prompts and tool schemas, not gigabytes.
_MAX_BODY = 64 * 1024 * 1024
# An idle keep-alive connection is dropped after this long so no handler thread lingers.
_IDLE_TIMEOUT = 30.0


@dataclass(frozen=True)
class _Dialect:
    validate: Callable[[Any], None]
    latest_input: Callable[[Mapping[str, Any]], str]
    error_body: Callable[[ErrorReply], Any]
    reply: Callable[[Turn, Mapping[str, Any]], Any]
    stream: Callable[[Turn, Mapping[str, Any]], Iterator[bytes]]
    stream_error: Callable[[str], bytes]


_DIALECTS = {
    "anthropic": _Dialect(
        _anthropic.validate,
        _anthropic.latest_input,
        _anthropic.error_body,
        _anthropic.message,
        _anthropic.stream,
        _anthropic.stream_error,
    ),
    "responses": _Dialect(
        _responses.validate,
        _responses.latest_input,
        _responses.error_body,
        _responses.response,
        _responses.stream,
        _responses.stream_error,
    ),
    "chat": _Dialect(
        _chat.validate,
        _chat.latest_input,
        _chat.error_body,
        _chat.completion,
        _chat.stream,
        _chat.stream_error,
    ),
    "gemini": _Dialect(
        _gemini.validate,
        _gemini.latest_input,
        _gemini.error_body,
        _gemini.reply,
        _gemini.stream,
        _gemini.stream_error,
    ),
}


def _route(method: str, path: str) -> str:
    """Name the endpoint a request is for (the API dialect, an auxiliary name, or unknown)."""
    route = urlsplit(path).path.rstrip("/")
    if route.startswith("/v1/"):
        route = route[3:]
    elif route.startswith(("/v1beta/", "/v1alpha/")):
        # The Gemini API: /v1beta/models/<model>:<method>.
        route = route[route.index("/", 1) :]
        if method == "POST" and route.startswith("/models/"):
            action = route.rsplit(":", 1)[-1] if ":" in route else ""
            if action in ("generateContent", "streamGenerateContent"):
                return "gemini"
            if action == "countTokens":
                return "gemini_count_tokens"
    if method == "POST":
        if route == "/messages":
            return "anthropic"
        if route == "/messages/count_tokens":
            return "count_tokens"
        if route == "/responses":
            return "responses"
        if route == "/chat/completions":
            return "chat"
    if method in ("GET", "HEAD"):
        if route == "/models":
            return "models"
        if route.startswith("/models/"):
            return "model"
        if route in ("", "/health", "/healthz", "/api/hello"):
            return "health"
    return "unknown"


class ScriptedModelServer:
    """Serve a script of model turns on 127.0.0.1 (an ephemeral port unless `port` is given).

    Use as a context manager; `base_url` is the server root (what `ANTHROPIC_BASE_URL` wants)
    and `openai_base_url` adds `/v1` (what OpenAI clients and codex's `base_url` want). Every
    request is recorded in `requests`; `record_path` also appends each record as a JSON line.
    """

    def __init__(
        self,
        script: Script | Iterable[Any] | Mapping[str, Any] = (),
        *,
        port: int = 0,
        record_path: str | Path | None = None,
    ) -> None:
        self.script = Script.from_data(script)
        self._uses_left = [turn.times for turn in self.script.turns]
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._record_path = Path(record_path) if record_path is not None else None
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> ScriptedModelServer:
        if self._httpd is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"model_server": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:  # wake handler threads blocked on idle keep-alive reads
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what tests look at --------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the scripted model server is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def model_requests(self) -> list[RecordedRequest]:
        """Only the requests to a model endpoint (messages, responses, chat completions,
        Gemini generateContent)."""
        return [r for r in self.requests if r.api in _DIALECTS]

    @property
    def remaining_turns(self) -> int:
        """How many scripted turns still have uses left (unlimited turns are not counted)."""
        with self._lock:
            return sum(1 for left in self._uses_left if left > 0)

    # -- internals used by the handler ---------------------------------------------------

    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(record)
            if self._record_path is not None:
                with self._record_path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(record.to_json()) + "\n")

    def _track(self, sock: socket.socket, alive: bool) -> None:
        with self._lock:
            if alive:
                self._sockets.add(sock)
            else:
                self._sockets.discard(sock)

    def _pick(
        self, api: str, body: Mapping[str, Any], raw: str, model: str | None = None
    ) -> tuple[int | None, Turn | None]:
        """Take the first remaining turn that accepts this request (under the lock)."""
        latest = _DIALECTS[api].latest_input(body)
        if model is None and isinstance(body.get("model"), str):
            model = body["model"]
        with self._lock:
            for index, turn in enumerate(self.script.turns):
                left = self._uses_left[index]
                if turn.times != 0 and left <= 0:
                    continue
                if turn.match is not None and not turn.match.accepts(
                    api=api, model=model, latest_input=latest, raw_body=raw
                ):
                    continue
                if turn.times != 0:
                    self._uses_left[index] = left - 1
                return index, turn
        return None, self.script.default


class _Handler(BaseHTTPRequestHandler):
    model_server: ScriptedModelServer
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_TIMEOUT
    server_version = "animus-scripted-model/0.1"

    def setup(self) -> None:
        super().setup()
        self.model_server._track(self.connection, alive=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.model_server._track(self.connection, alive=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are recorded, not logged to stderr (keeps test output readable)."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # -- request handling ----------------------------------------------------------------

    def _read_body(self) -> tuple[Any, str, str | None]:
        """Return (parsed JSON or None, raw text, problem) for the request body."""
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = self._read_chunked()
        elif length_header is None:
            return None, "", None
        else:
            try:
                length = int(length_header)
            except ValueError:
                return None, "", f"invalid Content-Length {length_header!r}"
            if length > _MAX_BODY:
                return None, "", f"request body of {length} bytes exceeds {_MAX_BODY}"
            raw = self.rfile.read(length)
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            try:
                raw = gzip.decompress(raw)
            except OSError as exc:
                return None, "", f"request body is not valid gzip: {exc}"
        elif self.headers.get("Content-Encoding", "identity").lower() != "identity":
            encoding = self.headers["Content-Encoding"]
            return None, "", f"unsupported request Content-Encoding {encoding!r}"
        text = raw.decode("utf-8", errors="replace")
        if not text.strip():
            return None, text, None
        try:
            return json.loads(text), text, None
        except json.JSONDecodeError as exc:
            return None, text, f"request body is not valid JSON: {exc}"

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(parts)
            total += size
            if total > _MAX_BODY:
                raise BadRequest(f"chunked request body exceeds {_MAX_BODY} bytes")
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _dispatch(self) -> None:
        api = _route(self.command, self.path)
        try:
            body, raw, problem = self._read_body()
        except (BadRequest, ValueError) as exc:
            body, raw, problem = None, "", str(exc)
        record = RecordedRequest(
            method=self.command,
            path=self.path,
            headers=redact_headers(dict(self.headers.items())),
            body=body if body is not None else (raw or None),
            api=api,
            received_at=time.time(),
        )
        try:
            self._answer(api, body, raw, problem, record)
        except (BrokenPipeError, ConnectionResetError):
            record.detail = record.detail or "client disconnected mid-response"
            self.close_connection = True

    def _answer(
        self, api: str, body: Any, raw: str, problem: str | None, record: RecordedRequest
    ) -> None:
        def bad(status: int, message: str, outcome: str) -> None:
            record.status, record.outcome, record.detail = status, outcome, message
            self.model_server._record(record)
            error = ErrorReply(status, f"scripted model server: {message}")
            dialect = _DIALECTS.get(api, _DIALECTS["responses"])
            self._send_json(status, dialect.error_body(error))

        if problem is not None:
            bad(400, problem, "bad_request")
            return
        if api == "unknown":
            bad(404, f"no such endpoint: {self.command} {self.path}", "not_found")
            return
        if api not in _DIALECTS:
            record.status, record.outcome = 200, "auxiliary"
            self.model_server._record(record)
            self._send_json(200, self._auxiliary(api, body))
            return
        dialect = _DIALECTS[api]
        try:
            dialect.validate(body)
        except BadRequest as exc:
            bad(400, str(exc), "bad_request")
            return
        model = None
        if api == "gemini":
            model = _gemini.model_of(self.path)
            record.extra["model"] = model
        index, turn = self.model_server._pick(api, body, raw, model)
        if turn is None:
            bad(
                400,
                "script exhausted: no remaining turn accepts this request "
                f"({len(self.model_server.script.turns)} turn(s) scripted, no default turn)",
                "exhausted",
            )
            return
        record.turn = index
        record.outcome = "turn" if index is not None else "default"
        if turn.first_byte_delay:
            time.sleep(turn.first_byte_delay)
        if turn.error is not None:
            record.status, record.detail = turn.error.status, turn.error.message
            self.model_server._record(record)
            self._send_json(turn.error.status, dialect.error_body(turn.error))
            return
        record.status = 200
        self.model_server._record(record)
        if api == "gemini" and not _gemini.is_sse(self.path):
            # :generateContent, or :streamGenerateContent without alt=sse (a JSON array).
            document = dialect.reply(turn, body)
            streamed = urlsplit(self.path).path.endswith(":streamGenerateContent")
            self._send_json(200, [document] if streamed else document)
        elif api == "gemini" or body.get("stream"):
            self._send_stream(dialect, turn, body, record)
        else:
            self._send_json(200, dialect.reply(turn, body))

    def _auxiliary(self, api: str, body: Any) -> Any:
        if api == "count_tokens":
            return {"input_tokens": estimate_tokens(body)}
        if api == "gemini_count_tokens":
            return {"totalTokens": estimate_tokens(body)}
        if api == "models":
            names = ["claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5", "gpt-5-codex"]
            return {
                "object": "list",
                "data": [_model_entry(name) for name in names],
                "has_more": False,
                "first_id": names[0],
                "last_id": names[-1],
            }
        if api == "model":
            return _model_entry(urlsplit(self.path).path.rstrip("/").rsplit("/", 1)[-1])
        return {"status": "ok"}

    # -- response writing ----------------------------------------------------------------

    def _send_json(self, status: int, document: Any) -> None:
        payload = (document if isinstance(document, str) else json.dumps(document)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("request-id", f"req_scripted_{int(time.time() * 1000)}")
        if status >= 400:
            # Tells Anthropic/OpenAI SDK clients the error is final, so tests do not wait on
            # retries with back-off (scripts repeat an error turn to exercise retries).
            self.send_header("x-should-retry", "false")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def _send_stream(
        self, dialect: _Dialect, turn: Turn, body: Mapping[str, Any], record: RecordedRequest
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for sent, frame in enumerate(dialect.stream(turn, body)):
            if sent == turn.cut_after:
                if turn.stream_error is None:
                    # Drop the connection mid-stream: no terminating chunk, socket shut.
                    record.detail = f"stream dropped after {sent} frame(s)"
                    self.close_connection = True
                    self.wfile.flush()
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                record.detail = f"stream error after {sent} frame(s)"
                self._write_chunk(dialect.stream_error(turn.stream_error))
                break
            if turn.chunk_delay and sent:
                time.sleep(turn.chunk_delay)
            self._write_chunk(frame)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, frame: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
        self.wfile.flush()


def _model_entry(name: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": name,
        "object": "model",
        "display_name": name,
        "created_at": "2025-01-01T00:00:00Z",
        "created": 1735689600,
        "owned_by": "scripted",
    }
