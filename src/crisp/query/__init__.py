"""InfluxQL query layer: InfluxDB 1.x semantics executed as DuckDB SQL over a snapshot.

Public API (import from the modules, so importing the parser does not load DuckDB):

* ``crisp.query.influxql``: ``parse_query``/``parse_statement``/``ParseError`` and the
  typed tree in ``crisp.query.influxql.ast``; ``render`` turns a tree back into text.
* ``crisp.query.executor.execute(text, storage=..., database=..., rp=..., now_ns=...,
  guards=...)``: one ``StatementResult`` (``crisp.query.results``) per statement.
* ``crisp.query.guards.QueryGuards``: per-statement limits.
* ``crisp.query.timefmt.format_results``: renders times for ``epoch=`` or as RFC3339.

Inside: ``timecond`` (WHERE time → range), ``filters`` (WHERE rest → SQL),
``planner`` (SELECT → one SQL statement), ``functions``/``postagg``/``transforms``
(InfluxQL functions), ``select`` (runs and shapes series), ``meta`` (SHOW/CREATE/DROP),
``sql`` (the only quoting and parameter binding), ``deadline`` (timeouts).
"""
