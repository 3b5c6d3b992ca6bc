"""Timestamp precisions accepted by the InfluxDB 1.x and 2.x write APIs."""

from __future__ import annotations

_NS_PER_UNIT: dict[str, int] = {
    "ns": 1,
    "n": 1,
    "us": 1_000,
    "u": 1_000,
    "µ": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3_600 * 1_000_000_000,
}


def precision_multiplier(precision: str) -> int:
    """Nanoseconds per timestamp unit; ``ValueError`` for a precision no API accepts."""
    try:
        return _NS_PER_UNIT[precision]
    except KeyError:
        accepted = ", ".join(sorted(_NS_PER_UNIT))
        raise ValueError(f"invalid precision {precision!r}: expected one of {accepted}") from None
