"""``animus agent run``: one agent session through the session host, events streamed live.

Human mode prints text deltas as they arrive and one tagged line per other event
(``[thinking]``, ``[tool]``, ``[result]``, ``[error]``), then a summary. ``--json`` prints
NDJSON: ``{"type": "event", ...}`` per event and a final ``{"type": "result", ...}``
carrying the AgentRunResponse (live streams are exempt from the envelope; errors still go
to stderr as one). SIGINT / SIGTERM cancel the session (``agent/cancel``, then the
provider's process group is ended) and the command exits 130 / 143.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from animus_cli.context import get_context
from animus_cli.output import emit_json_line
from animus_protocol.envelope import AnimusError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from animus_plugin_protocol.kinds.provider import AgentRunResponse
    from animus_session_host import SessionEvent, SessionHost

__all__ = ["command"]

_PREVIEW = 200


@click.group(name="agent")
def command() -> None:
    """Run one agent session and stream its events."""


def _parse_extras(pairs: tuple[str, ...]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(
                f"--extra expects KEY=VALUE, got {pair!r}",
                hint="e.g. --extra reasoning_effort=high",
            )
        extras[key.strip()] = value
    return extras


def _one_line(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…"


class _HumanPrinter:
    """Readable lines on stdout; text deltas are written as they come."""

    def __init__(self) -> None:
        self.mid_line = False
        self.streamed_text = False

    def _line(self, text: str) -> None:
        if self.mid_line:
            sys.stdout.write("\n")
            self.mid_line = False
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def event(self, event: SessionEvent) -> None:
        params = event.params
        kind = event.kind
        if kind == "output":
            final = bool(params.get("final") or params.get("is_final"))
            if final and self.streamed_text:
                return  # the final event repeats the text already streamed
            text = event.text
            if text:
                sys.stdout.write(text)
                self.mid_line = not text.endswith("\n")
                self.streamed_text = True
                sys.stdout.flush()
        elif kind == "thinking":
            self._line(f"[thinking] {_one_line(event.text)}")
        elif kind == "toolCall":
            self._line(f"[tool] {params.get('name', '?')} {_one_line(params.get('arguments'))}")
        elif kind == "toolResult":
            ok = "ok" if params.get("success", True) else "failed"
            self._line(
                f"[result] {params.get('name', '?')} ({ok}) {_one_line(params.get('output'))}"
            )
        elif kind == "error":
            self._line(f"[error] {event.text}")
        else:
            rest = {k: v for k, v in params.items() if k not in ("session_id", "kind")}
            self._line(f"[{kind}] {_one_line(rest)}")

    def summary(self, response: AgentRunResponse, elapsed: float) -> None:
        tokens = response.tokens_used
        token_text = (
            f"{tokens.input} in / {tokens.output} out" if tokens is not None else "not reported"
        )
        self._line("")
        self._line(f"session    {response.session_id}")
        self._line(f"exit code  {response.exit_code}")
        self._line(f"duration   {response.duration_ms} ms (wall {elapsed * 1000:.0f} ms)")
        self._line(f"tokens     {token_text}")
        if response.decision_verdict:
            self._line(f"verdict    {response.decision_verdict}")


def _json_event(event: SessionEvent) -> None:
    emit_json_line(
        {
            "type": "event",
            "method": event.method,
            "kind": event.kind,
            "session_id": event.session_id,
            "params": event.params,
        }
    )


@dataclass
class _Run:
    """State shared by the session task and the signal handlers."""

    sessions: SessionHost
    session_id: str | None = None
    signal_received: int | None = None
    task: asyncio.Task[AgentRunResponse] | None = None
    cancellers: set[asyncio.Task[None]] = field(default_factory=set)

    def on_signal(self, signum: int) -> None:
        if self.signal_received is not None:
            return
        self.signal_received = signum
        canceller = asyncio.get_running_loop().create_task(self._cancel())
        self.cancellers.add(canceller)
        canceller.add_done_callback(self.cancellers.discard)

    async def _cancel(self) -> None:
        from animus_session_host import SessionNotFoundError

        if self.session_id is not None:
            with contextlib.suppress(SessionNotFoundError):
                await self.sessions.cancel(self.session_id)
                return
        # Nothing announced a session id yet: stop waiting for the turn; closing the
        # session host afterwards shuts the provider (and its process group) down.
        if self.task is not None:
            self.task.cancel()


async def _run_session(
    tool: str,
    request: dict[str, Any],
    resume_id: str | None,
    json_output: bool,
    project_root: Path,
) -> tuple[AgentRunResponse | None, int | None, float]:
    from animus_session_host import SessionHost

    printer = _HumanPrinter()
    state = _Run(SessionHost(project_root=project_root))

    def on_event(event: SessionEvent) -> None:
        if state.session_id is None and event.session_id:
            state.session_id = event.session_id
        if state.signal_received is not None:
            return
        try:
            if json_output:
                _json_event(event)
            else:
                printer.event(event)
        except BrokenPipeError:
            # The reader went away (``| head``): behave as a SIGPIPE would, but cleanly.
            state.on_signal(signal.SIGPIPE)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, state.on_signal, signum)
    started = time.monotonic()
    try:
        if resume_id is not None:
            state.session_id = resume_id
            coro = state.sessions.resume(tool, resume_id, request, on_event)
        else:
            coro = state.sessions.run(tool, request, on_event)
        state.task = loop.create_task(coro)
        try:
            response = await state.task
        except asyncio.CancelledError:
            if state.signal_received is None:
                raise
            response = None
        except AnimusError:
            if state.signal_received is None:
                raise
            response = None  # the cancelled turn's error; the signal decides the outcome
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if state.cancellers:
            await asyncio.gather(*state.cancellers, return_exceptions=True)
        await state.sessions.aclose()
    elapsed = time.monotonic() - started
    if response is not None and state.signal_received is None:
        if json_output:
            emit_json_line({"type": "result", **response.to_wire()})
        else:
            printer.summary(response, elapsed)
    return response, state.signal_received, elapsed


@command.command(name="run")
@click.option(
    "--tool", required=True, help="claude, codex, gemini, opencode, oai, mock, or a plugin."
)
@click.option("--prompt", required=True, help="The prompt of the session.")
@click.option(
    "--cwd",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Working directory of the agent (default: the current directory).",
)
@click.option("--model", default=None, help="Model (default: the tool's default model).")
@click.option("--timeout-secs", type=click.IntRange(min=1), default=None)
@click.option("--system-prompt", default=None)
@click.option("--permission-mode", default=None)
@click.option("--session-id", default=None, help="Resume this session (agent/resume).")
@click.option("--extra", "extras", multiple=True, help="KEY=VALUE passed to the provider.")
@click.option(
    "--script",
    type=click.Path(path_type=Path),
    default=None,
    help="A mock provider script (YAML or JSON) sent inline as mock_script.",
)
def run(
    *,
    tool: str,
    prompt: str,
    cwd: Path | None,
    model: str | None,
    timeout_secs: int | None,
    system_prompt: str | None,
    permission_mode: str | None,
    session_id: str | None,
    extras: tuple[str, ...],
    script: Path | None,
) -> int:
    """Run one agent session, streaming its events; Ctrl-C cancels it."""
    ctx = get_context()
    if not prompt.strip():
        raise InvalidInputError("--prompt is empty", hint="pass the task for the agent")
    request: dict[str, Any] = _parse_extras(extras)
    if script is not None:
        try:
            request["mock_script"] = script.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise NotFoundError(
                f"mock script {script} does not exist", hint="pass an existing YAML/JSON file"
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"cannot read mock script {script}: {exc}") from exc
    request.update(
        {
            "prompt": prompt,
            "cwd": str((cwd or Path.cwd()).resolve()),
            "project_root": str(ctx.project_root),
        }
    )
    optional = {
        "model": model,
        "timeout_secs": timeout_secs,
        "system_prompt": system_prompt,
        "permission_mode": permission_mode,
    }
    request.update({k: v for k, v in optional.items() if v is not None})
    response, signum, _ = asyncio.run(
        _run_session(tool, request, session_id, ctx.json_output, ctx.project_root)
    )
    if signum is not None:
        from animus_cli.errors import print_error
        from animus_session_host import SessionCancelledError

        name = signal.Signals(signum).name
        print_error(
            SessionCancelledError(
                f"session cancelled by {name}",
                retryable=False,
                category="cancelled",
                hint="resume it with --session-id when the provider supports it",
            ),
            json_output=ctx.json_output,
        )
        return 128 + signum
    assert response is not None
    return 0 if response.exit_code == 0 else 1
