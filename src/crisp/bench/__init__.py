"""``crisp bench``: reproducible benchmarks of Crisp against InfluxDB and VictoriaMetrics.

The pieces follow TSBS's split (generate once, load many times, query separately) so
that data generation never costs CPU during a measured load:

- :mod:`crisp.bench.dataset` describes a data set; :mod:`crisp.bench.cpu_only` and
  :mod:`crisp.bench.api_latency` produce it as Arrow arrays of lines, which
  :mod:`crisp.bench.generate` turns into files or ``--batch``-line bodies.
- :mod:`crisp.bench.bodies` reads a file once into pre-built request bodies;
  :mod:`crisp.bench.loader` sends them (:mod:`crisp.bench.http_client`), and
  :mod:`crisp.bench.stats` summarises latencies.
- :mod:`crisp.bench.queryset` and :mod:`crisp.bench.query_runner` time query sets.
- :mod:`crisp.bench.servers` and :mod:`crisp.bench.compare` run every target in turn.
"""
