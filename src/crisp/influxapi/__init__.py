"""The InfluxDB 1.x-compatible HTTP API (``/write``, ``/api/v2/write``, ``/query``, ``/ping``).

Thin handlers: decode the request, call the protocol parser, the storage and the
query executor, and answer with InfluxDB's status codes, headers and JSON bodies.
"""
