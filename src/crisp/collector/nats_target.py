"""Where a NATS JetStream sink publishes and ``crisp consume`` reads: one URL.

``nats://[USER:PASSWORD@]HOST:PORT/STREAM[?subject=SUBJECT]`` (``tls://`` for TLS):

* ``STREAM`` is the JetStream stream; the collector and the consumer create it when
  it is absent (work-queue retention, file storage, see ``nats_stream``);
* ``SUBJECT`` is what the collector publishes to and the consumer filters on; by
  default the stream's own name, so ``nats://127.0.0.1:4222/crisp`` is a stream
  ``crisp`` on subject ``crisp``. Name another subject to use a stream created by
  operators whose subjects differ.

Databases travel in message headers, not in subjects: database names may hold
characters subjects cannot (``.``, ``*``, ``>``, spaces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

SCHEMES = ("nats", "tls")
# JetStream forbids whitespace, ".", "*", ">", path separators in stream names.
_STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
# One or more dot-separated tokens without wildcards or whitespace.
_SUBJECT = re.compile(r"^[^.\s*>]+(\.[^.\s*>]+)*$")


@dataclass(frozen=True)
class NatsTarget:
    server: str  # scheme://[user:password@]host:port, as nats-py takes it
    stream: str
    subject: str

    @property
    def display(self) -> str:
        """The URL without its password, for logs and ``/health``."""
        parts = urlsplit(self.server)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        query = "" if self.subject == self.stream else f"?subject={self.subject}"
        return f"{parts.scheme}://{user}{host}{port}/{self.stream}{query}"


def check_consumer_name(name: str) -> str:
    """A durable consumer's name follows the stream-name rules; ValueError otherwise."""
    if not _STREAM_NAME.match(name):
        raise ValueError(f"consumer name {name!r}: use letters, digits, _ and - only")
    return name


def is_nats_url(text: str) -> bool:
    return text.strip().lower().startswith(tuple(f"{scheme}://" for scheme in SCHEMES))


def parse_nats_url(text: str) -> NatsTarget:
    """Raise ValueError naming what is wrong with ``text``."""
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError(f"{text!r}: a NATS URL starts with nats:// or tls://")
    if not parts.hostname:
        raise ValueError(f"{text!r}: no host")
    try:
        port = parts.port or 4222
    except ValueError:
        raise ValueError(f"{text!r}: bad port") from None
    stream = parts.path.strip("/")
    if not _STREAM_NAME.match(stream):
        raise ValueError(
            f"{text!r}: the path must name the JetStream stream (letters, digits, _ and -), "
            "e.g. nats://127.0.0.1:4222/crisp"
        )
    query = parse_qs(parts.query)
    unknown = set(query) - {"subject"}
    if unknown:
        raise ValueError(f"{text!r}: unknown parameter {sorted(unknown)[0]!r} (only subject=)")
    subject = query.get("subject", [stream])[-1]
    if not _SUBJECT.match(subject):
        raise ValueError(f"{text!r}: subject {subject!r} is not a plain NATS subject")
    credentials = parts.netloc.rpartition("@")[0]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{credentials}@{host}:{port}" if credentials else f"{host}:{port}"
    return NatsTarget(f"{parts.scheme.lower()}://{netloc}", stream, subject)
