"""The seed's JSON points (``POST /api/v1/metrics``) into a ``PointBatch``."""

from crisp.protocols.json_points.parser import parse_json_points

__all__ = ["parse_json_points"]
