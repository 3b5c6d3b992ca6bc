"""Per-line limits the line protocol parser enforces before doing real work."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineProtocolLimits:
    """Bounds on one line; a line over any bound is rejected, the rest of the body kept.

    * ``max_line_bytes`` (64 KiB): InfluxDB 1.x caps the series key at 65535 bytes and
      clients batch by line, so a longer line is almost always a client bug; the bound
      also keeps the slow path's per-character work per line small.
    * ``max_tags`` (256): every tag is a column and a series-key component; hundreds of
      tags on one point signal a mis-modelled payload (e.g. values sent as tags).
    * ``max_fields`` (1024): generous for real exporters (telegraf plugins emit < 100)
      while stopping a single line from creating thousands of columns.
    """

    max_line_bytes: int = 64 * 1024
    max_tags: int = 256
    max_fields: int = 1024

    def __post_init__(self) -> None:
        for name in ("max_line_bytes", "max_tags", "max_fields"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


DEFAULT_LIMITS = LineProtocolLimits()
