"""Prometheus text exposition 0.0.4 / OpenMetrics text into a ``PointBatch``."""

from crisp.protocols.prometheus_text.parser import parse_prometheus_text

__all__ = ["parse_prometheus_text"]
