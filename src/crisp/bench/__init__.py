"""``crisp bench``: reproducible benchmarks of Crisp against InfluxDB and VictoriaMetrics.

The pieces follow TSBS's split (generate once, load many times, query separately) so
that data generation never costs CPU during a measured load:

- :mod:`crisp.bench.dataset` describes a data set; :mod:`crisp.bench.cpu_only`,
  :mod:`crisp.bench.devops`, :mod:`crisp.bench.iot` (TSBS's use cases, with
  :mod:`crisp.bench.walks` for their distributions) and :mod:`crisp.bench.api_latency`
  produce it as Arrow arrays of lines, which :mod:`crisp.bench.generate` turns into
  files or ``--batch``-line bodies.
- :mod:`crisp.bench.encoders` re-encodes those lines (read back by
  :mod:`crisp.bench.points`) as JSON, remote-write or OTLP bodies;
  :mod:`crisp.bench.bodyfile` stores and reads files of pre-built bodies.
- :mod:`crisp.bench.targets` says where each target takes each format;
  :mod:`crisp.bench.loader` sends the bodies (:mod:`crisp.bench.http_client`), and
  :mod:`crisp.bench.stats` summarises latencies.
- :mod:`crisp.bench.queryset` and :mod:`crisp.bench.query_runner` time query sets.
- :mod:`crisp.bench.servers` and :mod:`crisp.bench.compare` run every target in turn.
"""
