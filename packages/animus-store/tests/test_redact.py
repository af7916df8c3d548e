from __future__ import annotations

import pytest

from animus_store import RedactionConfigError
from animus_store.redact import REDACTED, Redactor, normalize_key


def test_key_normalization() -> None:
    assert normalize_key("X-Api-Key") == "x_api_key"
    assert normalize_key("accessToken") == "access_token"
    assert normalize_key("Client Secret") == "client_secret"


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "API-KEY",
        "token",
        "github_token",
        "accessToken",
        "x-api-key",
        "Authorization",
        "client_secret",
        "db_password",
        "private_key",
        "bearer",
    ],
)
def test_secret_keys_are_redacted(key: str) -> None:
    assert Redactor().redact({key: "s3cr3t"}) == {key: REDACTED}


@pytest.mark.parametrize("key", ["tokens_used", "input_tokens", "secretary", "keyboard", "name"])
def test_ordinary_keys_are_kept(key: str) -> None:
    assert Redactor().redact({key: "visible"}) == {key: "visible"}


def test_nested_structures_and_non_string_secrets() -> None:
    record = {
        "event": "phase",
        "data": {"env": [{"OPENAI_API_KEY": "sk-1"}, {"PATH": "/bin"}], "password": {"a": 1}},
        "count": 3,
        "tup": ("token=abc", 2),
    }
    assert Redactor().redact(record) == {
        "event": "phase",
        "data": {"env": [{"OPENAI_API_KEY": REDACTED}, {"PATH": "/bin"}], "password": REDACTED},
        "count": 3,
        "tup": [f"token={REDACTED}", 2],
    }
    assert record["data"]["env"][0]["OPENAI_API_KEY"] == "sk-1"  # input untouched


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("curl -H 'Authorization: Bearer abc.def'", f"curl -H 'Authorization: {REDACTED}'"),
        ("sent Bearer eyJhbGciOi to server", f"sent Bearer {REDACTED} to server"),
        ("api_key=sk-123 next", f"api_key={REDACTED} next"),
        ("GITHUB_TOKEN: ghp_x1", f"GITHUB_TOKEN: {REDACTED}"),
        ('{"password": "hunter2", "user": "bob"}', f'{{"password": "{REDACTED}", "user": "bob"}}'),
        ("url?secret=abc&x=1", f"url?secret={REDACTED}&x=1"),
        ("used 1200 tokens: fine", "used 1200 tokens: fine"),
    ],
)
def test_value_patterns(text: str, expected: str) -> None:
    assert Redactor().redact_text(text) == expected


def test_environment_overrides_keys_and_adds_patterns() -> None:
    redactor = Redactor.from_env(
        {
            "ANIMUS_LOG_REDACT_KEYS": "session_id, cookie",
            "ANIMUS_LOG_REDACT_PATTERNS": r"sk-[a-z0-9]+",
        }
    )
    assert redactor.redact(
        {"session_id": "1", "token": "kept now", "note": "key sk-abc9 leaked"}
    ) == {
        "session_id": REDACTED,
        "token": "kept now",
        "note": f"key {REDACTED} leaked",
    }
    as_json = Redactor.from_env({"ANIMUS_LOG_REDACT_PATTERNS": '["AKIA[0-9A-Z]{4}", "x,y"]'})
    assert as_json.redact_text("id AKIAABCD and x,y") == f"id {REDACTED} and {REDACTED}"


def test_bad_patterns_are_clear_errors() -> None:
    with pytest.raises(
        RedactionConfigError, match=r"'\(unclosed' is not a valid regular expression"
    ):
        Redactor.from_env({"ANIMUS_LOG_REDACT_PATTERNS": "(unclosed"})
    with pytest.raises(RedactionConfigError, match="not a valid JSON array"):
        Redactor.from_env({"ANIMUS_LOG_REDACT_PATTERNS": "[oops"})
    with pytest.raises(RedactionConfigError, match="array of strings"):
        Redactor.from_env({"ANIMUS_LOG_REDACT_PATTERNS": "[1, 2]"})
