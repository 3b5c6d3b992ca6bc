"""``crisp consume``: the storage side of the NATS JetStream path.

collector (``CRISP_SINK=nats://…``) → JetStream stream → ``crisp consume`` → storage
(the embedded engine on ``CRISP_DATA_DIR``, or any InfluxDB-compatible URL).

Guarantee: **at least once**. The consumer is a durable pull consumer with explicit
acks; a message is acknowledged only after the sink returned (the embedded engine's
WAL is fsynced, or the storage node answered 2xx). Storage overwrites a point with
the same series and time, so a redelivery (a crash before the ack reached NATS, an
ack timeout) changes nothing in the data.

* 5xx, timeouts, network errors: the message and the rest of the fetched ones are
  nak'ed with the backoff delay, and the consumer pauses that long, so a storage
  outage leaves the backlog in the stream, not in memory.
* 4xx (type conflict, bad retention policy) or an undecodable message: written to
  ``<spool dir>/dead-letter/`` (the collector's format, resend with
  ``crisp collector replay-dead-letters``), then terminated so it never blocks the
  stream.
* Several ``crisp consume`` processes with the same ``CRISP_CONSUME_DURABLE`` share
  the stream's messages; a restarted one resumes after the last acknowledged message
  (the work-queue stream deleted those).

Order is kept while storage accepts writes; after a nak, redelivered messages may
interleave with later ones (last write wins per point, as with any retrying writer).
"""
