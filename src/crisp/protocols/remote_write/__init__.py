"""Prometheus remote-write 1.0 (snappy + protobuf ``WriteRequest``) into a ``PointBatch``."""

from crisp.protocols.remote_write.parser import parse_remote_write

__all__ = ["parse_remote_write"]
