"""The JetStream stream between collectors and ``crisp consume``: connect and create.

Both sides create the stream when it is absent, with the same configuration, so
either may start first:

* **work-queue retention**: a message is removed once the consumer acknowledged it
  (storage has it), so the stream holds exactly the backlog, not history;
* **discard new** at ``CRISP_NATS_STREAM_MAX_BYTES``: a full stream refuses the
  publish instead of dropping the oldest unconsumed batch; the collector keeps the
  batch in its spool and retries (past the spool cap, clients get 429);
* **file storage**, a two-minute duplicate window for ``Nats-Msg-Id``.

A stream that exists is used as it is (operators may have given it replicas or other
limits); only its subject must match.
"""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from crisp.collector.nats_target import NatsTarget

log = logging.getLogger(__name__)

DUPLICATE_WINDOW_SECONDS = 120.0
# What a NATS call raises when the server is unreachable, slow or refuses for now.
CONNECTION_ERRORS = (OSError, TimeoutError, nats.errors.Error)


async def connect(target: NatsTarget, *, name: str, timeout: float) -> Client:
    """One connection attempt; raises :data:`CONNECTION_ERRORS` when it fails.

    No automatic reconnect: a lost connection closes the client, the next publish or
    fetch fails, and the caller reconnects with its own backoff. (nats-py's own
    reconnect loop never gives up on the first connect, which would hang start-up.)
    """
    return await nats.connect(
        servers=[target.server],
        name=name,
        connect_timeout=timeout,
        allow_reconnect=False,
        # Even without reconnects nats-py retries the first connect, by default 60
        # times 2 s apart: fail after one retry instead.
        max_reconnect_attempts=1,
        reconnect_time_wait=0.1,
        # The default callback logs a traceback per connection error.
        error_cb=_log_error,
    )


async def _log_error(error: Exception) -> None:
    log.warning("NATS connection error: %s: %s", type(error).__name__, error)


async def ensure_stream(js: JetStreamContext, target: NatsTarget, max_bytes: int) -> StreamConfig:
    """The stream's configuration, after creating the stream if it was absent."""
    try:
        info = await js.stream_info(target.stream)
    except NotFoundError:
        created = await js.add_stream(
            StreamConfig(
                name=target.stream,
                description="Crisp point batches, collector → crisp consume → storage",
                subjects=[target.subject],
                retention=RetentionPolicy.WORK_QUEUE,
                discard=DiscardPolicy.NEW,
                max_bytes=max_bytes,
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
            )
        )
        log.info("created JetStream stream %s on subject %s", target.stream, target.subject)
        return created.config
    subjects = info.config.subjects or []
    if target.subject not in subjects:
        raise ValueError(
            f"JetStream stream {target.stream!r} exists with subjects {subjects}, "
            f"not {target.subject!r}: name one of them with ?subject= in the NATS URL"
        )
    return info.config


def message_limit(max_payload: int, config: StreamConfig) -> int:
    """The largest message the server and the stream take: a message over the stream's
    ``max_msg_size`` or ``max_bytes`` would be refused at every retry."""
    limits = [max_payload]
    if config.max_msg_size is not None and config.max_msg_size > 0:
        limits.append(config.max_msg_size)
    if config.max_bytes is not None and config.max_bytes > 0:
        # A quarter: one batch must not fill the whole stream for the others.
        limits.append(max(1, config.max_bytes // 4))
    return min(limits)
