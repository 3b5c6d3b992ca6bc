"""Channel secrets: referenced from the environment (``env:NAME``) or stored encrypted.

Secret fields of a channel (its URL — webhook URLs carry their token —, password,
token and header values) are kept in the database either as ``env:NAME``, resolved
when a notification is sent, or as ``enc:<Fernet token>``, sealed with a key derived
from the console's secret key. The API and exports never show a clear secret.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

ENV_PREFIX = "env:"
ENC_PREFIX = "enc:"
SECRET_FIELDS = frozenset({"url", "password", "token", "username"})
REDACTED = "<encrypted>"


class SecretError(ValueError):
    """A secret cannot be resolved; the message names the field, never the value."""


class SecretBox:
    """Seals and opens stored secrets with a key derived from ``key_material``."""

    def __init__(self, key_material: str) -> None:
        digest = hashlib.sha256(
            b"crisp alerting channel secrets\0" + key_material.encode()
        ).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, value: str) -> str:
        return ENC_PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed[len(ENC_PREFIX) :].encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretError("cannot decrypt: sealed with another secret key") from None


def _is_reference(value: str) -> bool:
    return value.startswith((ENV_PREFIX, ENC_PREFIX))


def _map_secrets(settings: Mapping[str, Any], convert: Any) -> dict[str, Any]:
    out = dict(settings)
    for name, value in settings.items():
        if name in SECRET_FIELDS and isinstance(value, str) and value:
            out[name] = convert(name, value)
        elif name == "headers" and isinstance(value, Mapping):
            out[name] = {
                str(k): convert(f"headers.{k}", v) if isinstance(v, str) else v
                for k, v in value.items()
            }
    return out


def seal_settings(settings: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    """Settings to store: clear secrets sealed, ``env:``/``enc:`` references kept."""
    return _map_secrets(settings, lambda _n, v: v if _is_reference(v) else box.seal(v))


def redact_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings to show: ``env:`` references as they are, sealed values hidden."""
    return _map_secrets(settings, lambda _n, v: REDACTED if v.startswith(ENC_PREFIX) else v)


def resolve_settings(
    settings: Mapping[str, Any], box: SecretBox, environ: Mapping[str, str]
) -> dict[str, Any]:
    """Settings to use: every reference replaced by its clear value."""

    def resolve(name: str, value: str) -> str:
        if value.startswith(ENV_PREFIX):
            variable = value[len(ENV_PREFIX) :]
            if variable not in environ:
                raise SecretError(f"{name}: environment variable {variable} is not set")
            return environ[variable]
        if value.startswith(ENC_PREFIX):
            try:
                return box.open(value)
            except SecretError as exc:
                raise SecretError(f"{name}: {exc}") from None
        return value

    if not settings.get("url") and settings.get("url_env"):
        # The file format's older spelling of an environment reference.
        settings = {**settings, "url": ENV_PREFIX + str(settings["url_env"])}
    return _map_secrets(settings, resolve)
