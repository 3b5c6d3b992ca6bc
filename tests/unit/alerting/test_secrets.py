import pytest

from crisp.alerting.secrets import (
    REDACTED,
    SecretBox,
    SecretError,
    redact_settings,
    resolve_settings,
    seal_settings,
)

BOX = SecretBox("console key")


def test_clear_secrets_are_sealed_references_kept_and_resolved_back() -> None:
    settings = {
        "url": "https://hooks.example/T0/secret",
        "password": "env:SMTP_PASSWORD",
        "headers": {"Authorization": "Bearer abc"},
        "to": "ops@example.com",
    }
    sealed = seal_settings(settings, BOX)
    assert sealed["url"].startswith("enc:")
    assert "secret" not in sealed["url"]
    assert sealed["password"] == "env:SMTP_PASSWORD"
    assert sealed["headers"]["Authorization"].startswith("enc:")
    assert sealed["to"] == "ops@example.com"
    assert seal_settings(sealed, BOX) == sealed  # sealing twice changes nothing
    shown = redact_settings(sealed)
    assert shown["url"] == REDACTED
    assert shown["password"] == "env:SMTP_PASSWORD"
    clear = resolve_settings(sealed, BOX, {"SMTP_PASSWORD": "pw"})
    assert clear == {**settings, "password": "pw"}


def test_missing_variable_or_other_key_is_a_clear_error() -> None:
    with pytest.raises(SecretError, match="password: environment variable NOPE is not set"):
        resolve_settings({"password": "env:NOPE"}, BOX, {})
    sealed = seal_settings({"url": "http://x"}, SecretBox("other key"))
    with pytest.raises(SecretError, match="url: cannot decrypt"):
        resolve_settings(sealed, BOX, {})


def test_url_env_is_an_environment_reference() -> None:
    assert resolve_settings({"url_env": "HOOK"}, BOX, {"HOOK": "http://h"})["url"] == "http://h"
