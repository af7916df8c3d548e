"""Secret redaction for logs: by key name and by value pattern, recursively.

Key names are normalized (camelCase split, lower-cased, ``-`` and spaces to ``_``) and match a
secret word when it appears between ``_`` boundaries: ``github_token`` and ``X-Api-Key`` are
redacted, ``tokens_used`` is not. ``ANIMUS_LOG_REDACT_KEYS`` (comma-separated) replaces the
default word list. String values are scanned for ``key=value`` / ``key: value`` pairs of secret
words and ``Bearer`` credentials; ``ANIMUS_LOG_REDACT_PATTERNS`` adds regular expressions
(newline-separated, or a JSON array) whose whole match is redacted.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from animus_store.errors import RedactionConfigError

__all__ = ["DEFAULT_REDACT_KEYS", "REDACTED", "Redactor", "normalize_key"]

REDACTED = "[REDACTED]"

DEFAULT_REDACT_KEYS: tuple[str, ...] = (
    "api_key",
    "token",
    "access_token",
    "refresh_token",
    "secret",
    "client_secret",
    "password",
    "authorization",
    "bearer",
    "private_key",
    "x_api_key",
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[-\s.]+")

# key=value / key: value / "key": "value" inside free text.
_KEY_VALUE = re.compile(
    r"""(?ix)
    (?P<key>\b(?:[a-z0-9]+[_-])*(?:api[_-]?key|password|passwd|token|secret|authorization)\b)
    (?P<sep>["']?\s*[:=]\s*["']?)
    (?P<value>(?:(?:bearer|basic|token)\s+)?(?!\[REDACTED\])[^\s"',;&}\]]+)
    """
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=-]+")


def normalize_key(key: str) -> str:
    """``X-Api-Key`` → ``x_api_key``; ``accessToken`` → ``access_token``."""
    return _SEPARATORS.sub("_", _CAMEL.sub("_", key)).lower()


def _parse_patterns(raw: str) -> list[str]:
    raw = raw.strip()
    if not raw:
        return []
    if raw.startswith("["):
        try:
            items = json.loads(raw)
        except ValueError as exc:
            raise RedactionConfigError(
                f"ANIMUS_LOG_REDACT_PATTERNS is not a valid JSON array: {exc}"
            ) from exc
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise RedactionConfigError("ANIMUS_LOG_REDACT_PATTERNS must be a JSON array of strings")
        return [str(i) for i in items]
    return [line.strip() for line in raw.splitlines() if line.strip()]


class Redactor:
    """Replaces secrets in JSON-like values with ``"[REDACTED]"``."""

    def __init__(self, keys: Iterable[str] | None = None, patterns: Iterable[str] = ()) -> None:
        words = [normalize_key(k.strip()) for k in (DEFAULT_REDACT_KEYS if keys is None else keys)]
        words = [w for w in words if w]
        self.keys = tuple(words)
        self._key_re = (
            re.compile(r"(?:^|_)(?:" + "|".join(re.escape(w) for w in words) + r")(?:_|$)")
            if words
            else None
        )
        compiled: list[re.Pattern[str]] = []
        for pattern in patterns:
            try:
                compiled.append(re.compile(pattern))
            except re.error as exc:
                raise RedactionConfigError(
                    f"redaction pattern {pattern!r} is not a valid regular expression: {exc}"
                ) from exc
        self._extra = tuple(compiled)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Redactor:
        """Honour ``ANIMUS_LOG_REDACT_KEYS`` and ``ANIMUS_LOG_REDACT_PATTERNS``."""
        env = os.environ if env is None else env
        raw_keys = env.get("ANIMUS_LOG_REDACT_KEYS")
        keys = None if raw_keys is None else [k for k in raw_keys.split(",") if k.strip()]
        return cls(keys=keys, patterns=_parse_patterns(env.get("ANIMUS_LOG_REDACT_PATTERNS", "")))

    def is_secret_key(self, key: str) -> bool:
        return self._key_re is not None and self._key_re.search(normalize_key(key)) is not None

    def redact_text(self, text: str) -> str:
        text = _KEY_VALUE.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)
        text = _BEARER.sub(lambda m: f"{m[1]} {REDACTED}", text)
        for pattern in self._extra:
            text = pattern.sub(REDACTED, text)
        return text

    def redact(self, value: Any) -> Any:
        """A redacted copy of ``value`` (dicts, lists and tuples are walked)."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {
                k: (REDACTED if isinstance(k, str) and self.is_secret_key(k) else self.redact(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.redact(v) for v in value]
        return value
