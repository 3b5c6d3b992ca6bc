"""The NATS JetStream sink: a batch is delivered once JetStream acknowledged its publish.

``js.publish`` waits for the stream's PubAck, which the server sends after it stored
the message (on a replicated stream, after a quorum did); only then does the delivery
loop move the spool on. Every NATS failure (unreachable, timeout, stream full) is
``SinkUnavailable``: the spool keeps the batch and delivery retries with backoff.
A retry republishes every part of a split batch; ``Nats-Msg-Id`` makes JetStream
store the parts it already had only once.

How durable the stored message is then is the server's policy: nats-server flushes
its file store on a timer (``sync_interval``, 2 minutes by default) unless set to
``always``; replicas (R3) are the usual answer to losing a machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import APIError

from crisp.collector.nats_messages import PayloadTooLarge, encode_messages
from crisp.collector.nats_stream import (
    CONNECTION_ERRORS,
    connect,
    ensure_stream,
    message_limit,
)
from crisp.collector.nats_target import NatsTarget
from crisp.collector.sinks import SinkRejected, SinkUnavailable
from crisp.core.batch import PointBatch

log = logging.getLogger(__name__)


class NATSSink:
    name = "nats"

    def __init__(self, target: NatsTarget, *, stream_max_bytes: int, timeout: float) -> None:
        self.target = target
        self._stream_max_bytes = stream_max_bytes
        self._timeout = timeout
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self._message_limit = 0

    async def write(self, database: str, rp: str | None, batch: PointBatch) -> int:
        js = await self._connected()
        try:
            messages = await asyncio.to_thread(
                encode_messages, database, rp, batch, self._message_limit
            )
        except PayloadTooLarge as error:
            raise SinkRejected(413, str(error)) from None
        for message in messages:
            try:
                await js.publish(
                    self.target.subject,
                    message.payload,
                    timeout=self._timeout,
                    stream=self.target.stream,
                    headers=message.headers,
                )
            except APIError as error:  # stream full, no quorum, wrong stream: may pass
                raise SinkUnavailable(f"JetStream refused the publish: {error}") from None
            except CONNECTION_ERRORS as error:
                raise SinkUnavailable(
                    f"{self.target.display}: {type(error).__name__}: {error}"
                ) from None
        return 0

    async def _connected(self) -> JetStreamContext:
        if self._client is not None and self._js is not None and self._client.is_connected:
            return self._js
        await self.close()
        try:
            client = await connect(self.target, name="crisp-collector", timeout=self._timeout)
        except CONNECTION_ERRORS as error:
            raise SinkUnavailable(
                f"cannot reach NATS at {self.target.display}: {type(error).__name__}: {error}"
            ) from None
        js = client.jetstream(timeout=self._timeout)
        try:
            config = await ensure_stream(js, self.target, self._stream_max_bytes)
        except (ValueError, APIError, *CONNECTION_ERRORS) as error:
            # A subject clash or too little JetStream storage: an operator must act; the
            # spool keeps the data meanwhile and the log says why at every retry.
            with contextlib.suppress(*CONNECTION_ERRORS):
                await client.close()
            raise SinkUnavailable(f"JetStream stream {self.target.stream}: {error}") from None
        log.info("publishing to JetStream stream %s at %s", self.target.stream,
                 self.target.display)
        self._message_limit = message_limit(client.max_payload, config)
        self._client, self._js = client, js
        return js

    async def close(self) -> None:
        client, self._client, self._js = self._client, None, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(*CONNECTION_ERRORS):
                await client.close()
