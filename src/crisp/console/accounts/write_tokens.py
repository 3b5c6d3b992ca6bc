"""Write tokens for the collector: made here, enforced there.

The collector reads CRISP_WRITE_TOKENS_FILE (:mod:`crisp.collector.write_tokens`:
JSON of SHA-256 hashes, each with the databases it may write to) and re-reads it when
it changes. The console is where people manage those tokens, so after every change
it rewrites the whole file from its table, atomically (temporary file, fsync,
rename), so the collector never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

from django.db import transaction

from crisp.console.accounts.models import Team, WriteToken
from crisp.console.accounts.tokens import PREFIX_LENGTH, hash_token, new_token
from crisp.console.explore.services import options
from crisp.core.durable import fsync_dir


class WriteTokensNotConfigured(Exception):
    """Without CRISP_WRITE_TOKENS_FILE the collector would never see a token."""

    def __init__(self) -> None:
        super().__init__(
            "CRISP_WRITE_TOKENS_FILE is not set, so the collector would not know this token: "
            "set it for both the console and the collector"
        )


def tokens_file() -> Path:
    path = options().write_tokens_file
    if path is None:
        raise WriteTokensNotConfigured
    return Path(path)


def file_document() -> dict[str, object]:
    """What the collector reads: every token's hash, databases and expiry."""
    entries = []
    for token in WriteToken.objects.select_related("team").order_by("pk"):
        entry: dict[str, object] = {
            "name": str(token),
            "sha256": token.key_hash,
            "databases": list(token.databases),
        }
        if token.expires is not None:
            entry["expires"] = token.expires.isoformat()
        entries.append(entry)
    return {"tokens": entries}


def write_tokens_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(file_document(), indent=2) + "\n"
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def do_create_write_token(
    team: Team, name: str, databases: list[str], expires: datetime | None = None
) -> tuple[WriteToken, str]:
    """The stored token and its clear text (only here); the file follows at once."""
    path = tokens_file()
    token = new_token()
    with transaction.atomic():
        record = WriteToken.objects.create(
            team=team,
            name=name,
            prefix=token[:PREFIX_LENGTH],
            key_hash=hash_token(token),
            databases=databases,
            expires=expires,
        )
        write_tokens_file(path)
    return record, token


def do_delete_write_token(record: WriteToken) -> None:
    path = tokens_file()
    with transaction.atomic():
        record.delete()
        write_tokens_file(path)
