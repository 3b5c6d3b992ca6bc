"""Write tokens per tenant, each limited to databases (``CRISP_WRITE_TOKENS_FILE``).

The file is JSON; only SHA-256 hashes of tokens are in it (the console's
``APIToken.key_hash`` is the same hash, so the console can write this file)::

    {"tokens": [
      {"name": "payments", "sha256": "9f86…", "databases": ["payments", "payments_*"]},
      {"name": "ops", "sha256": "60303…", "databases": ["*"],
       "expires": "2027-01-01T00:00:00Z"}
    ]}

``databases`` are names or shell-style patterns (``*``, ``?``, ``[…]``). A write
presenting a token (``Authorization: Token``/``Bearer``, Basic password, ``?p=``)
that is not in the file, or has expired, gets 401; one whose token does not cover the
target database gets 403 naming the token and what it may write to. The admin token
(``CRISP_ADMIN_TOKEN``) still writes everywhere. With neither set, the collector is
in local mode and takes every write.

The file is re-read when it changes (checked at most once a second), so whoever
manages it replaces it atomically (write a temporary file, rename it over) and no
collector restarts. A change that does not parse is logged and the previous tokens
stay in force.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request

from crisp.influxapi.auth import required_token, same_token
from crisp.influxapi.errors import HTTPError

log = logging.getLogger(__name__)

RELOAD_CHECK_SECONDS = 1.0
_HEX = frozenset("0123456789abcdef")


def hash_token(token: str) -> str:
    """SHA-256 hex, as the console's ``accounts.tokens.hash_token``: tokens carry 256
    random bits, so a fast hash leaves nothing to brute-force."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WriteToken:
    name: str
    databases: tuple[str, ...]
    expires: datetime | None = None

    def allows(self, database: str) -> bool:
        return any(fnmatch.fnmatchcase(database, pattern) for pattern in self.databases)

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


def parse_write_tokens(text: str, source: str) -> dict[str, WriteToken]:
    """Tokens by hash; ValueError naming ``source`` and the entry at fault."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{source}: not JSON: {error}") from None
    entries = document.get("tokens") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f'{source}: expected {{"tokens": [...]}}')
    tokens: dict[str, WriteToken] = {}
    for number, entry in enumerate(entries, 1):
        where = f"{source}: token {number}"
        digest, token = _entry(entry, where)
        if digest in tokens:
            raise ValueError(f"{where}: the same sha256 as token {tokens[digest].name!r}")
        tokens[digest] = token
    return tokens


def _entry(entry: Any, where: str) -> tuple[str, WriteToken]:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object")
    unknown = set(entry) - {"name", "sha256", "databases", "expires"}
    if unknown:
        raise ValueError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    digest = entry.get("sha256")
    if not isinstance(digest, str) or len(digest) != 64 or not set(digest) <= _HEX:
        raise ValueError(f"{where}: sha256 must be 64 lowercase hex digits")
    databases = entry.get("databases")
    if (
        not isinstance(databases, list)
        or not databases
        or not all(isinstance(d, str) and d for d in databases)
    ):
        raise ValueError(f"{where}: databases must be a non-empty list of names or patterns")
    name = entry.get("name", digest[:8])
    if not isinstance(name, str):
        raise ValueError(f"{where}: name must be a string")
    expires = None
    if entry.get("expires") is not None:
        try:
            expires = datetime.fromisoformat(str(entry["expires"]))
        except ValueError:
            raise ValueError(f"{where}: expires must be an ISO 8601 time") from None
        if expires.tzinfo is None:
            raise ValueError(f"{where}: expires needs a time zone, e.g. 2027-01-01T00:00:00Z")
    return digest, WriteToken(name, tuple(databases), expires)


class WriteTokensFile:
    """The tokens of one file, re-read when its modification time or size changes."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        # Start-up: a bad file is a configuration error, not a warning.
        self._tokens = parse_write_tokens(path.read_text(), str(path))
        self._next_check = clock() + RELOAD_CHECK_SECONDS

    def lookup(self, token: str) -> WriteToken | None:
        self._reload_if_changed()
        return self._tokens.get(hash_token(token))

    def _file_stamp(self) -> tuple[int, int]:
        stat = self.path.stat()
        return stat.st_mtime_ns, stat.st_size

    def _reload_if_changed(self) -> None:
        now = self._clock()
        if now < self._next_check:
            return
        with self._lock:
            if now < self._next_check:
                return
            self._next_check = now + RELOAD_CHECK_SECONDS
            try:
                stamp = self._file_stamp()
                if stamp == self._stamp:
                    return
                tokens = parse_write_tokens(self.path.read_text(), str(self.path))
            except (OSError, ValueError) as error:
                log.error("write tokens not reloaded, the previous ones stay: %s", error)
                return
            self._stamp, self._tokens = stamp, tokens
            log.info("write tokens reloaded from %s: %d tokens", self.path, len(tokens))


@dataclass
class WriteAuth:
    """Who may write where: the admin token everywhere, file tokens to their databases."""

    admin_token: str = ""
    tokens: WriteTokensFile | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.admin_token) or self.tokens is not None

    def check(self, request: Request, database: str) -> None:
        if not self.enabled:
            return
        token = required_token(request)
        if self.admin_token and same_token(token, self.admin_token):
            return
        known = self.tokens.lookup(token) if self.tokens is not None else None
        if known is None or known.expired(datetime.now(UTC)):
            raise HTTPError(401, "authorization failed")
        if not known.allows(database):
            allowed = ", ".join(known.databases)
            raise HTTPError(
                403,
                f"token {known.name!r} may not write to database {database!r} "
                f"(it may write to: {allowed})",
            )
