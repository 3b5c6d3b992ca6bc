"""OTLP/HTTP metrics (protobuf and JSON) into a ``PointBatch``."""

from crisp.protocols.otlp.parser import parse_otlp_metrics

__all__ = ["parse_otlp_metrics"]
