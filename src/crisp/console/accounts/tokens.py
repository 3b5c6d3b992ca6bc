"""Token format and hashing. Tokens carry 256 random bits, so a fast hash is enough:
there is nothing to brute-force, and lookups stay one indexed equality."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "crisp_"  # noqa: S105  # a marker, not a secret
PREFIX_LENGTH = 12


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
