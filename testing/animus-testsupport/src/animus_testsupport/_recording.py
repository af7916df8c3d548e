"""What the server saw: one record per HTTP request, secrets redacted."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["RecordedRequest", "redact_headers"]

_SECRET_HEADERS = {"authorization", "x-api-key", "cookie", "proxy-authorization"}
_SECRET_WORDS = ("token", "secret", "key", "auth")


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Header names lower-cased; values of credential-bearing headers replaced by a marker.

    The header stays present so a test can still assert that a key was sent at all.
    """
    clean: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        secret = lower in _SECRET_HEADERS or any(word in lower for word in _SECRET_WORDS)
        clean[lower] = "<redacted>" if secret else value
    return clean


@dataclass
class RecordedRequest:
    """One request as received, and how the server answered it.

    `api` is `anthropic`, `responses`, `chat`, `gemini` for model requests, else the auxiliary
    endpoint's name (`count_tokens`, `models`, `unknown`). `turn` is the index of the scripted
    turn that answered (None for the default answer, errors and auxiliary endpoints); `outcome`
    is `turn`, `default`, `exhausted`, `bad_request`, `auxiliary` or `not_found`.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    api: str
    status: int = 0
    turn: int | None = None
    outcome: str = ""
    detail: str = ""
    received_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> str | None:
        """The requested model: the body's `model`, or the Gemini API path's model name."""
        model = self.body.get("model") if isinstance(self.body, dict) else None
        if not isinstance(model, str):
            model = self.extra.get("model")
        return model if isinstance(model, str) else None

    def body_text(self) -> str:
        """The JSON body as text, for substring assertions."""
        return self.body if isinstance(self.body, str) else json.dumps(self.body)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordedRequest:
        return cls(**data)
