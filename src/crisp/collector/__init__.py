"""The collector: a stateless ingest gateway (``crisp collector``).

Flow: request → ``crisp.protocols`` parser (pure, in a worker thread) → one spool
record (Arrow IPC, per request) → group-commit fsync → answer. A delivery loop reads
the spool in order, batches per (database, rp) by ``writer_batch_size`` /
``writer_flush_interval``, writes to the sink and only then acknowledges the spool
position, which deletes fully delivered segments.

Guarantees:

* **Ack rule.** 204/202/200 is sent only after the request's good points are
  fsynced in the spool (always fsync; concurrent requests share one). Never "ack
  then write" as the seed did. A full spool (``spool_max_bytes``) answers 429 with
  ``Retry-After`` before anything is kept; a spool I/O failure answers 503.
* **Delivery: at least once, idempotent in effect.** A crash between a sink write and
  the spool acknowledgement resends those records after restart; Crisp storage and
  InfluxDB overwrite a point with the same series and time, so counts do not change.
  (VictoriaMetrics keeps duplicates unless ``-dedup.minScrapeInterval`` is set.)
* **Sink failures.** 5xx, 408/425/429, timeouts and network errors are retried
  forever with exponential backoff and full jitter (the spool holds the data); any
  other 4xx is counted, logged with the sink's reason and written, fsynced, to
  ``<spool_dir>/dead-letter/*.lp`` before the spool forgets it;
  ``crisp collector replay-dead-letters`` resends those files.
* **Shutdown.** SIGTERM stops the HTTP API, lets queued spool appends finish, gives
  delivery a few seconds to empty the spool, then closes; what is left is replayed at
  the next start.

* **NATS JetStream sink** (``CRISP_SINK=nats://HOST:PORT/STREAM``): a batch is
  delivered once JetStream acknowledged its publish; ``crisp consume``
  (``crisp.consume``) writes the stream to storage and acks after storage did.
* **UDP** (``CRISP_COLLECTOR_UDP_LISTEN``): InfluxDB's semantics, no answer, so no
  guarantee past the spool; drops are counted.
* **Guards before the spool**: write tokens limited to databases
  (``write_tokens``), series limits per measurement and per database
  (``cardinality``).
* **Pre-aggregation** (``CRISP_COLLECTOR_AGGREGATION_FILE``), after the spool, in
  the delivery loop: windows per series (``aggregation``, rules in
  ``aggregation_rules``); the spool is acknowledged only at a checkpoint holding the
  windows and the output being delivered (``aggregation_checkpoint``).
* **Workers** (``CRISP_COLLECTOR_WORKERS``): N processes on one port
  (``SO_REUSEPORT``), each with its own spool, started and restarted by a supervisor.

Module map: ``handlers``/``app`` (HTTP), ``udp``, ``write_tokens`` and
``cardinality`` (admission), ``spool`` + ``records`` (durability), ``delivery`` +
``batcher`` + ``backoff`` (the loop), ``aggregation`` + ``aggregation_rules`` +
``aggregation_checkpoint`` (pre-aggregation), ``workers`` (N processes on one port),
``sinks`` + ``lp_encode`` (storage targets),
``nats_target`` + ``nats_messages`` + ``nats_stream`` + ``nats_sink`` (the JetStream
target, shared with ``crisp.consume``), ``deadletter`` + ``replay``, ``metrics``
(``crisp_collector_*``), ``node`` (components for ``crisp.runtime``).
"""
